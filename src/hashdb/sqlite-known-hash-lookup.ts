import { declaredMode } from '../core/declared-mode.js';
import type { FileHashes, HashAlgorithm } from '../core/file-state.js';
import { NO_EVIDENCE, type EvidenceSet, type HashEvidence, type HashSourceKind } from '../core/known-hash-policy.js';
import { usrAlias } from '../core/usrmerge.js';
import type { Blooms } from './bloom-cache.js';
import type { DigestIndex } from './digest-index.js';
import { DigestIndexCorrupt, type IndexedRow } from './digest-index-file.js';
import type { HashOnlySources } from './hash-only-sources.js';
import { ALL_PLACES_LIMIT, type KnownHashStatements } from './sqlite-known-hash-statements.js';

const ALGORITHM_OF_LENGTH: Readonly<Record<number, HashAlgorithm>> = { 16: 'md5', 20: 'sha1', 32: 'sha256' };
const ELSEWHERE_LIMIT = 8;
/** Strongest first: evidence lists put the SHA-256 answer before the weaker ones. */
const DIGEST_ORDER = ['sha256', 'sha1', 'md5'] as const;

/**
 * The digest index and what answering from it needs: the sources in memory, and whom to tell when the index turns
 * out damaged (it is then dropped, and the database answers).
 */
export interface IndexedLookups {
  readonly index: DigestIndex;
  readonly sources: HashOnlySources;
  readonly damaged: () => void;
}

type EvidenceRow = [
  Buffer | null,
  string | null,
  string | null,
  string | null,
  HashSourceKind,
  string,
  string,
  number | null,
  number | null,
  number | null,
  string | null,
  string | null,
  number | null,
];

/** Answers what the known-hash tables say about one file's digests, with the Bloom filters in front when given. */
export class SqliteKnownHashLookup {
  readonly #stmts: KnownHashStatements;
  /** Where a digest is decoded before the filters say whether it deserves a Buffer of its own. */
  readonly #scratch = Buffer.alloc(64);

  constructor(stmts: KnownHashStatements) {
    this.#stmts = stmts;
  }

  /**
   * The evidence for `hashes` at `path` (`badOnly`: from the bad lists alone); `blooms` undefined asks the tables.
   * `usrMerged` false: the root is not usr-merged, so the usrmerge alias is not asked.
   */
  lookup(path: Buffer, hashes: FileHashes, badOnly: boolean, blooms: Blooms | undefined, usrMerged = true, indexed?: IndexedLookups): EvidenceSet {
    let atPath: HashEvidence[] | undefined;
    let elsewhere: HashEvidence[] | undefined;
    let bad: HashEvidence[] | undefined;
    for (const algorithm of DIGEST_ORDER) {
      const hex = hashes[algorithm];
      if (hex === undefined) continue;
      // Decoded into scratch space first: with the filters, most digests are answered "absent" without a
      // Buffer of their own.
      const scratch = this.#scratch.subarray(0, this.#scratch.write(hex, 'hex'));
      const maybeKnown = !badOnly && (blooms === undefined || blooms.known.has(scratch));
      const maybeBad = blooms === undefined || blooms.bad.has(scratch);
      if (!maybeKnown && !maybeBad) continue;
      const digest = Buffer.from(scratch);
      if (maybeKnown) {
        const found = this.#fromIndex(digest, indexed) ?? this.#known(path, digest, usrMerged);
        if (found.atPath.length > 0) (atPath ??= []).push(...found.atPath);
        if (found.elsewhere.length > 0) (elsewhere ??= []).push(...found.elsewhere);
      }
      if (maybeBad)
        for (const row of this.#stmts.bad.all(digest) as [HashSourceKind, string, string, string | null][]) (bad ??= []).push(badEvidence(digest, row));
    }
    if (atPath === undefined && elsewhere === undefined && bad === undefined) return NO_EVIDENCE;
    return { atPath: atPath ?? [], elsewhere: (elsewhere ?? []).slice(0, ELSEWHERE_LIMIT), bad: bad ?? [] };
  }

  /**
   * The known rows of one digest from the digest index, when it can answer alone: no row at all, or only hash-only
   * rows (no path, no package: NSRL's kind) of sources it knows. Such rows are never at the path, so they are all
   * "elsewhere", in key order (source id), as the evidence query returns them. Anything else (a row with a path or
   * a package, no index, a damaged index) is left to the database: `undefined`.
   */
  #fromIndex(digest: Buffer, indexed: IndexedLookups | undefined): { atPath: HashEvidence[]; elsewhere: HashEvidence[] } | undefined {
    if (indexed === undefined) return undefined;
    let rows: readonly IndexedRow[];
    try {
      rows = indexed.index.find(digest);
    } catch (error) {
      if (!(error instanceof DigestIndexCorrupt)) throw error;
      indexed.damaged();
      return undefined;
    }
    const elsewhere: HashEvidence[] = [];
    if (rows.length === 0) return { atPath: [], elsewhere };
    for (const row of rows) if (row.placed) return undefined;
    const ordered = rows.length === 1 ? rows : [...rows].sort((a, b) => a.sourceId - b.sourceId);
    const algorithm = ALGORITHM_OF_LENGTH[digest.length] as HashAlgorithm;
    for (const row of ordered) {
      const known = indexed.sources.get(row.sourceId);
      if (known === undefined) return undefined;
      if (known.counts && elsewhere.length < ELSEWHERE_LIMIT) elsewhere.push({ algorithm, source: known.source, bad: false });
    }
    return { atPath: [], elsewhere };
  }

  /**
   * Where the database places one digest: at this path (or, on a merged-/usr root, its usrmerge alias), and
   * elsewhere. Where /bin is a real directory, /bin/x and /usr/bin/x are two files: one's content says nothing of
   * the other's.
   */
  #known(path: Buffer, digest: Buffer, usrMerged: boolean): { atPath: HashEvidence[]; elsewhere: HashEvidence[] } {
    const atPath: HashEvidence[] = [];
    const elsewhere: HashEvidence[] = [];
    const rows = this.#stmts.allPlaces.all(digest) as EvidenceRow[];
    if (rows.length === 0) return { atPath, elsewhere };
    const alias = usrMerged ? usrAlias(path) : undefined;
    if (rows.length > ALL_PLACES_LIMIT) {
      // Too common to list every place: ask for this path (and its alias) directly.
      const ids = (alias === undefined ? [path] : [path, alias]).flatMap((p) => (this.#stmts.pathId.get(p) as [number] | undefined)?.[0] ?? []);
      for (const row of this.#stmts.atPath.all(digest, ids[0] ?? -1, ids[1] ?? -1) as EvidenceRow[]) atPath.push(toEvidence(digest, row));
    }
    for (const row of rows.slice(0, ALL_PLACES_LIMIT)) {
      const at = row[0];
      const here = at !== null && (at.equals(path) || (alias !== undefined && at.equals(alias)));
      if (here && rows.length <= ALL_PLACES_LIMIT) atPath.push(toEvidence(digest, row));
      else if (!here && elsewhere.length < ELSEWHERE_LIMIT) elsewhere.push(toEvidence(digest, row));
    }
    return { atPath, elsewhere };
  }
}

function toEvidence(digest: Buffer, [path, pkg, version, arch, kind, name, host, mode, uid, gid, owner, group, observed]: EvidenceRow): HashEvidence {
  return {
    algorithm: ALGORITHM_OF_LENGTH[digest.length] as HashAlgorithm,
    ...(path === null ? {} : { path }),
    ...(pkg === null ? {} : { package: { name: pkg, version: version ?? '', arch: arch ?? '' } }),
    source: { kind, name, ...(host === '' ? {} : { host }) },
    bad: false,
    ...(mode === null ? {} : { declared: declaredMode(mode, uid, gid, owner, group, observed === 1) }),
  };
}

function badEvidence(digest: Buffer, [kind, name, host, label]: [HashSourceKind, string, string, string | null]): HashEvidence {
  return {
    algorithm: ALGORITHM_OF_LENGTH[digest.length] as HashAlgorithm,
    source: { kind, name, ...(host === '' ? {} : { host }) },
    bad: true,
    ...(label === null ? {} : { label }),
  };
}
