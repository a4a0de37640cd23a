import { createHash, randomUUID } from 'node:crypto';
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
  | { readonly status: 'bad-upload'; readonly reason: string }
  | { readonly status: 'busy'; readonly reason: string };

/** Uploads received at once; more are turned away (429) and asked for again later. */
const MAX_UPLOADS = 4;

/** Thrown by the size guard when an upload exceeds the limit. */
class TooLarge extends Error {}

/**
 * Verifies .debs as agents upload them, one at a time: the bytes must hash to the SHA-256 the agent offered, then
 * the package must be what a signed index lists (InRelease signature with the pinned keyring → Packages entry →
 * the .deb's SHA-256 and size); only then are its file digests and symlink targets imported as `deb-verified`.
 * Nothing from a package is ever run. The indexes are loaded once and again when asked (`reload`). A .deb seen
 * before (verified or refused) is never verified again.
 */
export class DebVerifier {
  readonly #config: DebVerification;
  readonly #store: KnownHashStore;
  #index: Promise<AptIndex> | undefined;
  #turn: Promise<unknown> = Promise.resolve();
  #receiving = 0;

  constructor(config: DebVerification, store: KnownHashStore) {
    this.#config = config;
    this.#store = store;
  }

  /** Drops the loaded indexes: the next upload loads them again (after `apt-get update` on the manager). */
  reload(): void {
    this.#index = undefined;
  }

  /**
   * Receives one upload claimed to have this SHA-256, verifies and records it. The bytes are received side by side
   * (at most MAX_UPLOADS at once: a slow sender holds up no one else), the verification is done in turn.
   */
  async receive(sha256: string, body: Readable, claimed = 'a package'): Promise<DebUploadOutcome> {
    const known = await this.#store.debVerdict(sha256);
    if (known !== undefined) {
      body.resume();
      return known.verdict === 'verified'
        ? { status: 'verified', package: known.package }
        : { status: 'refused', package: known.package, reason: known.reason ?? '' };
    }
    if (this.#receiving >= MAX_UPLOADS) {
      body.resume();
      return { status: 'busy', reason: `${MAX_UPLOADS} uploads are being received: try again later` };
    }
    this.#receiving++;
    ensureDirectory(this.#config.incomingDir);
    const file = join(this.#config.incomingDir, `${sha256}.${randomUUID()}.deb`);
    try {
      const bad = await this.#receiveInto(body, file, sha256);
      if (bad !== undefined) return bad;
    } catch (error) {
      rmSync(file, { force: true });
      throw error;
    } finally {
      this.#receiving--;
    }
    const next = this.#turn.then(() => this.#verify(sha256, file, claimed));
    this.#turn = next.catch(() => undefined);
    return next;
  }

  /** Writes the upload to `file`, hashing it on the way; an outcome when it is not what was offered. */
  async #receiveInto(body: Readable, file: string, sha256: string): Promise<DebUploadOutcome | undefined> {
    const hash = createHash('sha256');
    let bytes = 0;
    const max = this.#config.maxBytes;
    const out = createWriteStream(file, { mode: 0o600, flags: 'wx' });
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
        out,
      );
    } catch (error) {
      // The file may still be being opened when the pipeline gives up: remove it once it is closed.
      if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()));
      rmSync(file, { force: true });
      if (error instanceof TooLarge) return { status: 'bad-upload', reason: error.message };
      throw error;
    }
    const actual = hash.digest('hex');
    if (actual === sha256) return undefined;
    rmSync(file, { force: true });
    return { status: 'bad-upload', reason: `the upload hashes to ${actual}, not the ${sha256} offered` };
  }

  async #verify(sha256: string, file: string, claimed: string): Promise<DebUploadOutcome> {
    try {
      // Another agent's upload of the same .deb may have been verified while this one was received.
      const known = await this.#store.debVerdict(sha256);
      if (known !== undefined)
        return known.verdict === 'verified'
          ? { status: 'verified', package: known.package }
          : { status: 'refused', package: known.package, reason: known.reason ?? '' };
      this.#index ??= loadAptIndex(this.#config.aptLists, this.#config.keyring);
      const index = await this.#index;
      const summary = await importDebs(this.#store, { inputs: [file], index });
      const refused = summary.refused[0];
      const pkg = summary.imported[0]?.package;
      if (summary.verified === 1 && refused === undefined && pkg !== undefined) {
        await this.#store.recordDeb(sha256, { verdict: 'verified', package: pkg });
        return { status: 'verified', package: pkg };
      }
      // A .deb the index does not list is never parsed: it is named by what the agent said it was.
      const identity = `${claimed} (as the agent named it)`;
      const reason = (refused?.reason ?? 'not verified').replace(`${file}: `, '');
      await this.#store.recordDeb(sha256, { verdict: 'refused', package: identity, reason });
      return { status: 'refused', package: identity, reason };
    } finally {
      rmSync(file, { force: true });
    }
  }
}
