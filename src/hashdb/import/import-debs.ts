import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { linkDigest } from '../../core/content-digests.js';
import type { HashSourceRef, ImportSession, KnownHashRow, KnownHashStore } from '../known-hash-store.js';
import { loadAptIndex, type AptIndex, type IndexedDeb, type VerifiedRelease } from './apt-chain.js';
import { assertRegularInput } from './regular-input.js';
import { readDebArchive, type DebContents } from './deb-archive.js';
import type { ImportCounts, ImportProgress } from './import-rows.js';

/** What `custos hashdb import deb` did, including every package it refused and why. */
export interface DebImportSummary extends ImportCounts {
  readonly debs: number;
  readonly verified: number;
  readonly refused: readonly { readonly file: string; readonly reason: string }[];
  /** Each .deb imported, with its `name version arch`. */
  readonly imported: readonly { readonly file: string; readonly package: string }[];
  /** Index files that could not be verified (bad signature, hash mismatch, expired). */
  readonly indexProblems: readonly string[];
}

/** Options of a .deb import; with `aptLists` and `keyring`, every package must verify against a signed index. */
export interface DebImportOptions {
  readonly inputs: readonly string[];
  readonly aptLists?: string;
  readonly keyring?: string;
  /** The signed indexes already loaded and verified (a long-running manager loads them once). */
  readonly index?: AptIndex;
  readonly onProgress?: ImportProgress;
}

/**
 * Imports .deb archives without installing them: SHA-256 and MD5 of every payload file at its path. With
 * `aptLists` and `keyring`, each .deb is checked against the signed chain (InRelease signature → Packages hash →
 * the .deb's SHA-256 and size) and imported as `deb-verified`; one that fails is refused with the reason and
 * nothing of it is imported. Without them, packages are imported as `manual` (the operator vouches for them).
 */
export async function importDebs(store: KnownHashStore, options: DebImportOptions): Promise<DebImportSummary> {
  const index =
    options.index ?? (options.aptLists !== undefined && options.keyring !== undefined ? await loadAptIndex(options.aptLists, options.keyring) : undefined);
  const files = options.inputs.flatMap(expandDebInputs);
  const refused: { file: string; reason: string }[] = [];
  const imported: { file: string; package: string }[] = [];
  // One import session per source (each verified suite, or the unverified lot), opened on first use: rows are
  // written package by package, never all held at once.
  const sessions = new Map<VerifiedRelease | undefined, ImportSession>();
  let verified = 0;
  let rows = 0;
  for (const file of files) {
    let release: VerifiedRelease | undefined;
    let contents: DebContents;
    try {
      // With a signed index, the file's hash is compared before a byte of it is parsed: a package the index does
      // not list is never opened by the archive readers (nor its decompressors run on it).
      const listed = index === undefined ? undefined : await listedIn(file, index);
      contents = await readDebArchive(file);
      if (index !== undefined && listed !== undefined) {
        const check = matchIdentity(contents, listed);
        if (!check.ok) {
          refused.push({ file, reason: check.reason });
          continue;
        }
        release = check.release;
        verified++;
      }
    } catch (error) {
      refused.push({ file, reason: (error as Error).message });
      continue;
    }
    let session = sessions.get(release);
    if (session === undefined) {
      session = await store.beginImport(sourceFor(release, index));
      sessions.set(release, session);
    }
    const batch = rowsOf(contents);
    await session.add(batch);
    imported.push({ file, package: `${contents.package} ${contents.version} ${contents.arch}` });
    rows += batch.length;
    options.onProgress?.(rows);
  }
  let inserted = 0;
  for (const session of sessions.values()) inserted += (await session.finish()).inserted;
  return { rows, inserted, debs: files.length, verified, refused, imported, indexProblems: index?.problems ?? [] };
}

function sourceFor(release: VerifiedRelease | undefined, index: AptIndex | undefined): HashSourceRef {
  if (release === undefined) return { kind: 'manual', name: 'deb archives (unverified)' };
  return {
    kind: 'deb-verified',
    name: `${release.origin} ${release.suite}`.trim(),
    evidence: {
      keyringSha256: index?.keyringSha256,
      inRelease: { file: release.file, sha256: release.sha256, date: release.date },
      packages: release.packages,
    },
  };
}

/** The index entries listing exactly this file (its SHA-256 and size); a refusal when none does. */
async function listedIn(file: string, index: AptIndex): Promise<{ readonly sha256: string; readonly size: number; readonly entries: readonly IndexedDeb[] }> {
  assertRegularInput(file);
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  const sha256 = hash.digest('hex');
  const size = statSync(file).size;
  const entries = index.findByDigest(sha256).filter((e) => e.size === size);
  if (entries.length === 0) throw new Error(`${file}: the file (SHA-256 ${sha256}, ${size} bytes) is not listed in any verified index; not parsed`);
  return { sha256, size, entries };
}

/** The package a listed file says it is must be the one the index lists under that hash. */
function matchIdentity(
  contents: DebContents,
  listed: { readonly sha256: string; readonly entries: readonly IndexedDeb[] },
): { ok: true; release: VerifiedRelease } | { ok: false; reason: string } {
  const id = `${contents.package} ${contents.version} ${contents.arch}`;
  const match = listed.entries.find((e) => e.package === contents.package && e.version === contents.version && e.arch === contents.arch);
  if (match !== undefined) return { ok: true, release: match.release };
  return { ok: false, reason: `${id}: the signed index lists this file (SHA-256 ${listed.sha256}) as another package` };
}

function rowsOf(contents: DebContents): KnownHashRow[] {
  const pkg = { name: contents.package, version: contents.version, arch: contents.arch };
  const files = contents.files.flatMap((f) => [
    { digest: f.sha256, path: f.path, package: pkg, declared: f.declared },
    { digest: f.md5, path: f.path, package: pkg, declared: f.declared },
  ]);
  // A symlink's "content" is its target (see contentDigests).
  const links = contents.symlinks.map((l) => ({ digest: Buffer.from(linkDigest(l.target), 'hex'), path: l.path, package: pkg }));
  return [...files, ...links];
}

function expandDebInputs(input: string): string[] {
  if (!statSync(input, { throwIfNoEntry: false })?.isDirectory()) return [input];
  return readdirSync(input)
    .filter((n) => n.endsWith('.deb'))
    .sort()
    .map((n) => join(input, n));
}
