import type { FileHashes } from '../core/file-state.js';
import type { EvidenceSet, HashEvidence } from '../core/known-hash-policy.js';
import type { HostPackageStore } from './host-packages.js';
import type { HashSourceRef, KnownHashRow } from './hash-source.js';

export type { HashSourceRef, KnownHashRow } from './hash-source.js';

/** One file's question to the known-hash database. */
export interface KnownHashQuery {
  readonly path: Buffer;
  readonly hashes: FileHashes;
  readonly badOnly?: boolean;
  /** The path was deleted: only the recorded package removals that explain it are asked. */
  readonly deleted?: boolean;
  /**
   * False on a root where /bin, /sbin and /lib* are real directories: the usrmerge alias (`/bin/x` for
   * `/usr/bin/x`) is not asked. Default true (merged, as current Debian, Ubuntu and Fedora are).
   */
  readonly usrMerged?: boolean;
}

/** An import in progress: rows go in batches, each batch in one transaction; duplicates are ignored. */
export interface ImportSession {
  add(rows: readonly KnownHashRow[]): Promise<void>;
  /** Ends the import; `inserted` counts rows that were not there before. */
  finish(): Promise<{ readonly rows: number; readonly inserted: number }>;
}

/** Counts for `custos hashdb stats`. */
export interface HashStoreStats {
  readonly sources: readonly { readonly kind: string; readonly name: string; readonly host?: string; readonly importedAt: string; readonly rows: number }[];
  readonly knownRows: number;
  readonly badRows: number;
  readonly paths: number;
  readonly packages: number;
  /** .debs agents offered that the manager verified against the signed indexes, or refused. */
  readonly debs: { readonly verified: number; readonly refused: number };
}

/**
 * The known-hash database: what package managers, operators and reference sets say file contents should be,
 * kept apart from the baseline so other tools can fill it.
 */
export interface KnownHashStore extends HostPackageStore {
  /**
   * Starts an import from one source. `bulk` suits huge hash-only sets (NSRL): rows are staged unsorted and
   * merged into the index in digest order when the import finishes, instead of landing at random B-tree pages.
   */
  beginImport(source: HashSourceRef, options?: { readonly bulk?: boolean }): Promise<ImportSession>;
  /** When an import from this source last started, if ever (for incremental imports). */
  lastImport(source: HashSourceRef): Promise<Date | undefined>;
  /** Everything known about a file's digests: at its path (or usrmerge alias), elsewhere, and on bad lists. */
  lookup(path: Buffer, hashes: FileHashes): Promise<EvidenceSet>;
  /** Only the bad lists (cheap enough for every file of a first scan). */
  lookupBad(hashes: FileHashes): Promise<readonly HashEvidence[]>;
  /**
   * Many lookups in one call, one answer per query in order: what ingest asks for a chunk of changes. A query with
   * `badOnly` is answered from the bad lists alone (its `atPath` and `elsewhere` are empty).
   */
  lookupMany(queries: readonly KnownHashQuery[]): Promise<readonly EvidenceSet[]>;
  stats(): Promise<HashStoreStats>;
  close(): Promise<void>;
}
