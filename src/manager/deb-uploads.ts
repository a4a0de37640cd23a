import { createHash } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { loadAptIndex, type AptIndex } from '../hashdb/import/apt-chain.js';
import { importDebs } from '../hashdb/import/import-debs.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import { ensureDirectory } from '../platform/ensure-directory.js';

/** How the manager verifies the .debs agents upload: the signed indexes and the keyring it pins. */
export interface DebVerification {
  readonly aptLists: string;
  readonly keyring: string;
  /** Where uploads are written while they are checked (removed after). */
  readonly incomingDir: string;
  /** The largest .deb accepted, in bytes. */
  readonly maxBytes: number;
}

/** What became of one upload. */
export type DebUploadOutcome =
  | { readonly status: 'verified'; readonly package: string }
  | { readonly status: 'refused'; readonly package: string; readonly reason: string }
  | { readonly status: 'bad-upload'; readonly reason: string };

/** Thrown by the size guard when an upload exceeds the limit. */
class TooLarge extends Error {}

/**
 * Verifies .debs as agents upload them, one at a time: the bytes must hash to the SHA-256 the agent offered, then
 * the package must be what a signed index lists (InRelease signature with the pinned keyring → Packages entry →
 * the .deb's SHA-256 and size); only then are its file digests and symlink targets imported as `deb-verified`.
 * Nothing from a package is ever run. The indexes are loaded once and again when asked (`reload`).
 */
export class DebVerifier {
  readonly #config: DebVerification;
  readonly #store: KnownHashStore;
  #index: Promise<AptIndex> | undefined;
  #turn: Promise<unknown> = Promise.resolve();

  constructor(config: DebVerification, store: KnownHashStore) {
    this.#config = config;
    this.#store = store;
  }

  /** Drops the loaded indexes: the next upload loads them again (after `apt-get update` on the manager). */
  reload(): void {
    this.#index = undefined;
  }

  /** Receives one upload claimed to have this SHA-256, verifies and records it. Uploads are handled in turn. */
  receive(sha256: string, body: Readable): Promise<DebUploadOutcome> {
    const next = this.#turn.then(() => this.#receive(sha256, body));
    this.#turn = next.catch(() => undefined);
    return next;
  }

  async #receive(sha256: string, body: Readable): Promise<DebUploadOutcome> {
    const known = await this.#store.debVerdict(sha256);
    if (known !== undefined) {
      body.resume();
      return known.verdict === 'verified' ? { status: 'verified', package: known.package } : { status: 'refused', package: known.package, reason: known.reason ?? '' };
    }
    ensureDirectory(this.#config.incomingDir);
    const file = join(this.#config.incomingDir, `${sha256}.deb`);
    const hash = createHash('sha256');
    let bytes = 0;
    const max = this.#config.maxBytes;
    try {
      await pipeline(
        body,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) {
            bytes += chunk.length;
            if (bytes > max) throw new TooLarge(`larger than the ${max} bytes a .deb may be`);
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(file, { mode: 0o600, flags: 'w' }),
      );
      const actual = hash.digest('hex');
      if (actual !== sha256) return { status: 'bad-upload', reason: `the upload hashes to ${actual}, not the ${sha256} offered` };
      this.#index ??= loadAptIndex(this.#config.aptLists, this.#config.keyring);
      const index = await this.#index;
      const summary = await importDebs(this.#store, { inputs: [file], index });
      const refused = summary.refused[0];
      const identity = refused?.reason.split(':')[0] ?? 'the package';
      const pkg = summary.imported[0]?.package;
      if (summary.verified === 1 && refused === undefined && pkg !== undefined) {
        await this.#store.recordDeb(sha256, { verdict: 'verified', package: pkg });
        return { status: 'verified', package: pkg };
      }
      const reason = refused?.reason ?? 'not verified';
      await this.#store.recordDeb(sha256, { verdict: 'refused', package: identity, reason });
      return { status: 'refused', package: identity, reason };
    } catch (error) {
      if (error instanceof TooLarge) return { status: 'bad-upload', reason: error.message };
      throw error;
    } finally {
      rmSync(file, { force: true });
    }
  }
}
