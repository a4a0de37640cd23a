import type pg from 'pg';
import { declaredMode, type DeclaredMode } from '../../core/declared-mode.js';
import type { HashAlgorithm } from '../../core/file-state.js';
import { NO_EVIDENCE, type EvidenceSet, type HashEvidence, type RemovalEvidence } from '../../core/known-hash-policy.js';
import { usrAlias } from '../../core/usrmerge.js';
import type { PostgresDatabase } from '../../storage/postgres/postgres-database.js';
import type { Blooms } from '../bloom-cache.js';
import type { KnownHashQuery } from '../known-hash-store.js';
import type { LookupNames, ResolvedNames } from './postgres-lookup-names.js';

const ALGORITHM_OF_LENGTH: Readonly<Record<number, HashAlgorithm>> = { 16: 'md5', 20: 'sha1', 32: 'sha256' };
/** As in SQLite: every place of a digest is listed up to this many; beyond, the path itself is asked for. */
const ALL_PLACES_LIMIT = 64;
const ELSEWHERE_LIMIT = 8;
/** Strongest first: evidence lists put the SHA-256 answer before the weaker ones. */
const DIGEST_ORDER = ['sha256', 'sha1', 'md5'] as const;
/**
 * The digests of a chunk go to the server as one binary BYTEA of fixed records: a length byte, then the digest,
 * padded to the longest (SHA-256). Measured: an array of 500 BYTEA values as text took about as long as the whole
 * lookup; one binary parameter costs next to nothing to send and to split.
 */
const LONGEST = 32;
const RECORD = LONGEST + 1;

// A source with installed-package state (a host's own package database) knows content only of the versions
// installed now; sources without such state (archives, hash sets) are not filtered. As in SQLite.
const INSTALLED_NOW = `(NOT EXISTS (SELECT 1 FROM kh_host_packages h WHERE h.source_id = k.source_id)
  OR EXISTS (SELECT 1 FROM kh_host_packages h WHERE h.source_id = k.source_id AND h.package_id = k.package_id))`;
/** The I-th digest of a packed parameter. */
const nth = (param: string): string => `substring(${param}::bytea from q.i * ${RECORD} + 2 for get_byte(${param}::bytea, q.i * ${RECORD}))`;
const records = (param: string): string => `generate_series(0, length(${param}::bytea) / ${RECORD} - 1) q (i)`;
/**
 * Every place each known digest ($1) is listed (up to the limit, in key order as SQLite lists them), and every bad
 * list that has each bad digest ($2): one round trip for a whole chunk, each digest one index range. Each row is
 * five columns, as few as the answer needs (row parsing was a third of the client's time, measured):
 * - `r`: the digest's record number, or for a bad list -1 - the record number;
 * - `path`: the place's path (read here: paths are too many to remember), NULL for hash-only rows;
 * - `pkg`, `src`: package and source ids whose names LookupNames keeps (float8 is a JS number; ids stay far below 2^53);
 * - `d`: the declared mode as a JSON array [mode, uid, gid, owner, group, observed] when there is one; a bad list's label.
 */
const PLACES_AND_BAD = `
  SELECT r, path, pkg, src, d FROM (
    SELECT q.i AS r, k.path_id, p.path, k.package_id::float8 AS pkg, k.source_id::float8 AS src,
           CASE WHEN d.mode IS NULL THEN NULL ELSE json_build_array(d.mode, d.uid, d.gid, d.owner, d.grp, d.observed)::text END AS d
      FROM ${records('$1')}
      CROSS JOIN LATERAL (SELECT k.* FROM kh_known k WHERE k.digest = ${nth('$1')} AND ${INSTALLED_NOW}
        ORDER BY k.path_id, k.package_id, k.source_id LIMIT ${ALL_PLACES_LIMIT + 1}) k
      LEFT JOIN kh_paths p ON p.id = k.path_id
      LEFT JOIN kh_declared_modes d ON d.path_id = k.path_id AND d.package_id = k.package_id AND d.source_id = k.source_id
    UNION ALL
    SELECT -1 - q.i, NULL, NULL, NULL, b.source_id::float8, b.label
      FROM ${records('$2')} JOIN kh_bad b ON b.digest = ${nth('$2')}
  ) x ORDER BY r, path_id, pkg, src`;
/** A digest's places at one path and its alias, for a digest listed at more places than the limit (names by join). */
const AT_PATH = `SELECT 0 AS r, p.path, k.package_id::float8 AS pkg, k.source_id::float8 AS src,
    CASE WHEN d.mode IS NULL THEN NULL ELSE json_build_array(d.mode, d.uid, d.gid, d.owner, d.grp, d.observed)::text END AS d
  FROM kh_known k JOIN kh_paths p ON p.id = k.path_id
  LEFT JOIN kh_declared_modes d ON d.path_id = k.path_id AND d.package_id = k.package_id AND d.source_id = k.source_id
  WHERE k.digest = $1 AND p.path = ANY($2::bytea[]) AND ${INSTALLED_NOW} ORDER BY k.path_id, k.package_id, k.source_id`;
// A removal explains a deletion only while no installed package of the same host owns the path again.
const REMOVALS = `
  SELECT q.qi, r.reason, r.package_id::float8 AS package_id, r.source_id::float8 AS source_id
    FROM unnest($1::bytea[], $2::int[]) WITH ORDINALITY AS q(path, qi, ord)
    JOIN kh_paths pa ON pa.path = q.path JOIN kh_removed r ON r.path_id = pa.id JOIN kh_sources s ON s.id = r.source_id
   WHERE NOT EXISTS (SELECT 1 FROM kh_owned o JOIN kh_sources os ON os.id = o.source_id WHERE o.path_id = r.path_id AND os.host = s.host)
   ORDER BY q.ord, r.source_id, r.package_id`;

/** One row of PLACES_AND_BAD or AT_PATH, as an array: [r, path, pkg, src, d] (see PLACES_AND_BAD). */
type PlaceRow = [r: number, path: Buffer | null, pkg: number | null, src: number, d: string | null];

const NO_ASKS: Ask[] = [];
const EMPTY = Buffer.alloc(0);

/** One digest a query asks about: which lists the filters leave to ask, and its record in each packed parameter. */
interface Ask {
  readonly algorithm: HashAlgorithm;
  /** Record number in the known parameter; -1 when the filter says it is not known. */
  readonly known: number;
  /** Record number in the bad parameter; -1 when not asked. */
  readonly bad: number;
}

/** The digests of a chunk, each once, packed as the server reads them. */
class PackedDigests {
  // Made on the first digest: with the filters, most chunks ask nothing.
  #buffer = EMPTY;
  #count = 0;
  #index: Map<string, number> | undefined;

  /** The record number of this digest (the bytes in `decoded`, keyed by `key`: its hex), added when new. */
  add(key: string, decoded: Buffer): number {
    const index = (this.#index ??= new Map<string, number>());
    const seen = index.get(key);
    if (seen !== undefined) return seen;
    if ((this.#count + 1) * RECORD > this.#buffer.length) {
      const grown = Buffer.alloc(Math.max(RECORD * 64, this.#buffer.length * 2)); // zeroed: padding never carries stale memory
      this.#buffer.copy(grown);
      this.#buffer = grown;
    }
    const at = this.#count * RECORD;
    this.#buffer[at] = decoded.length;
    decoded.copy(this.#buffer, at + 1);
    index.set(key, this.#count);
    return this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** The digest of record `n` (a view of the parameter's bytes). */
  digest(n: number): Buffer {
    const at = n * RECORD;
    return this.#buffer.subarray(at + 1, at + 1 + (this.#buffer[at] as number));
  }

  /** The parameter: only the records written. */
  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#count * RECORD);
  }
}

/**
 * Answers what the known-hash tables on PostgreSQL say about a chunk of changes: one round trip for every digest
 * of the chunk (two with deletions, one more the first time a source or package id is seen), the Bloom filters in
 * front when given. Answers as SqliteKnownHashLookup does.
 */
export async function lookupMany(
  db: PostgresDatabase,
  names: LookupNames,
  queries: readonly KnownHashQuery[],
  blooms: Blooms | undefined,
): Promise<EvidenceSet[]> {
  // Sparse: with the filters, most queries ask nothing and get no list.
  const asks: Ask[][] = [];
  const known = new PackedDigests();
  const badDigests = new PackedDigests();
  const deleted: number[] = [];
  for (let i = 0; i < queries.length; i++) {
    const q = queries[i] as KnownHashQuery;
    if (q.deleted === true) deleted.push(i);
    else {
      const list = asksOf(q, blooms, known, badDigests);
      if (list !== NO_ASKS) asks[i] = list;
    }
  }
  // What the filters answered alone (most unknown content) costs no round trip.
  if (known.count + badDigests.count + deleted.length === 0) return new Array<EvidenceSet>(queries.length).fill(NO_EVIDENCE);
  const [parts, removals] = await Promise.all([placesAndBad(db, known, badDigests), deleted.length === 0 ? [] : removalsOf(db, queries, deleted)]);
  const rows = parts.flatMap((p) => p.rows);
  const resolved = await names.load(
    db,
    [...rows.map((r) => r[3]), ...removals.map((r) => r.source_id)],
    [...rows.map((r) => r[2] ?? 0), ...removals.map((r) => r.package_id ?? 0)],
  );
  // Rows come sorted by list, record and key: each record's rows are one run.
  // Records without rows (every miss) have no list.
  const places: PlaceRow[][] = [];
  const bad: PlaceRow[][] = [];
  for (const { offset, rows: part } of parts)
    for (const row of part) {
      const r = row[0];
      // Bad rows all come with the first part (offset 0).
      const [lists, n] = r < 0 ? [bad, -1 - r] : [places, offset + r];
      (lists[n] ??= []).push(row);
    }
  const atPath = places.some((p) => p.length > ALL_PLACES_LIMIT)
    ? await placesAtPath(db, names, resolved, queries, asks, places, known)
    : new Map<string, PlaceRow[]>();
  const removed = removalEvidence(removals, resolved);
  return queries.map((q, i) => {
    if (q.deleted !== true) return evidenceOf(q, i, asks[i] ?? NO_ASKS, places, bad, atPath, resolved);
    const list = removed.get(i);
    return list === undefined ? NO_EVIDENCE : { ...NO_EVIDENCE, removed: list };
  });
}

/** Below this many known digests a chunk is one query; from it, two halves on two connections. */
const SPLIT_FROM = 128;

/**
 * The places of the known digests and the bad lists of the bad ones. A big chunk goes as two queries at once on two
 * pooled connections, so the server works on one half while this process reads the other's rows (measured on 2
 * cores: the client and the server each took about half of a chunk's time when one waited for the other). Each
 * part's record numbers start at its `offset` in the known digests (the bad ones all go with the first part). The
 * halves are two statements, so an import committing between them is seen by one and not the other: each digest is
 * still answered from one snapshot, as two chunks would be.
 */
async function placesAndBad(db: PostgresDatabase, known: PackedDigests, bad: PackedDigests): Promise<{ offset: number; rows: PlaceRow[] }[]> {
  if (known.count + bad.count === 0) return [];
  const all = known.bytes();
  const half = known.count >= SPLIT_FROM ? Math.ceil(known.count / 2) : known.count;
  const run = (offset: number, end: number, badBytes: Buffer): Promise<{ offset: number; rows: PlaceRow[] }> =>
    preparedArrays<PlaceRow>(db, 'custos_kh_places_packed', PLACES_AND_BAD, [all.subarray(offset * RECORD, end * RECORD), badBytes]).then((rows) => ({
      offset,
      rows,
    }));
  const first = run(0, half, bad.bytes());
  return half === known.count ? [await first] : Promise.all([first, run(half, known.count, Buffer.alloc(0))]);
}

/**
 * For a digest known at more places than are listed (the empty file's), the rows at the query's own path and its
 * alias, asked directly (rare: one round trip for all of them), by `query index/record`.
 */
async function placesAtPath(
  db: PostgresDatabase,
  names: LookupNames,
  resolved: ResolvedNames,
  queries: readonly KnownHashQuery[],
  asks: readonly Ask[][],
  places: readonly PlaceRow[][],
  known: PackedDigests,
): Promise<Map<string, PlaceRow[]>> {
  const out = new Map<string, PlaceRow[]>();
  const pending: Promise<void>[] = [];
  asks.forEach((list, i) => {
    const q = queries[i] as KnownHashQuery;
    for (const ask of list) {
      if (ask.known < 0 || (places[ask.known]?.length ?? 0) <= ALL_PLACES_LIMIT) continue;
      const alias = q.usrMerged !== false ? usrAlias(q.path) : undefined;
      const paths = alias === undefined ? [q.path] : [q.path, alias];
      pending.push(
        preparedArrays<PlaceRow>(db, 'custos_kh_at_path_rows', AT_PATH, [known.digest(ask.known), paths]).then(
          (rows) => void out.set(`${i}/${ask.known}`, rows),
        ),
      );
    }
  });
  await Promise.all(pending);
  const rows = [...out.values()].flat();
  await names.load(
    db,
    rows.map((r) => r[3]),
    rows.map((r) => r[2] ?? 0),
    resolved,
  );
  return out;
}

/**
 * Runs one of the lookup statements as a named prepared statement: each pooled connection plans it once, not once
 * per chunk (measured: a chunk of 500 hits in 29 ms instead of 65, under load).
 */
async function prepared<R extends object>(db: PostgresDatabase, name: string, text: string, values: readonly unknown[]): Promise<R[]> {
  return (await db.pool.query<R & pg.QueryResultRow>({ name, text, values: values as unknown[] })).rows;
}

/** As `prepared`, each row an array of its columns (no object with named fields to build for every row). */
async function preparedArrays<R extends unknown[]>(db: PostgresDatabase, name: string, text: string, values: readonly unknown[]): Promise<R[]> {
  return (await db.pool.query<R>({ name, text, values: values as unknown[], rowMode: 'array' })).rows;
}

/** Where a digest is decoded before the filters say whether it is asked. */
const scratch = Buffer.alloc(64);

function asksOf(q: KnownHashQuery, blooms: Blooms | undefined, known: PackedDigests, bad: PackedDigests): Ask[] {
  let asks: Ask[] | undefined;
  for (const algorithm of DIGEST_ORDER) {
    const hex = q.hashes[algorithm];
    if (hex === undefined) continue;
    const decoded = scratch.subarray(0, scratch.write(hex, 'hex'));
    // No list holds a digest longer than SHA-256's (or an empty one): nothing to ask.
    if (decoded.length === 0 || decoded.length > LONGEST) continue;
    const askKnown = q.badOnly !== true && (blooms === undefined || blooms.known.has(decoded));
    const askBad = blooms === undefined || blooms.bad.has(decoded);
    if (!askKnown && !askBad) continue;
    // Keyed by the hex text (in lower case: the same digest in either case is one record).
    const key = hex.toLowerCase();
    (asks ??= []).push({
      // Named by the digest's length, as SQLite does (a malformed hash of another length answers the same on both).
      algorithm: ALGORITHM_OF_LENGTH[decoded.length] ?? algorithm,
      known: askKnown ? known.add(key, decoded) : -1,
      bad: askBad ? bad.add(key, decoded) : -1,
    });
  }
  return asks ?? NO_ASKS;
}

function evidenceOf(
  q: KnownHashQuery,
  index: number,
  asks: readonly Ask[],
  places: readonly PlaceRow[][],
  badRows: readonly PlaceRow[][],
  atPathRows: ReadonlyMap<string, PlaceRow[]>,
  names: ResolvedNames,
): EvidenceSet {
  let atPath: HashEvidence[] | undefined;
  let elsewhere: HashEvidence[] | undefined;
  let bad: HashEvidence[] | undefined;
  for (const ask of asks) {
    if (ask.known >= 0) {
      const found = knownAt(q, ask, places[ask.known] ?? [], atPathRows.get(`${index}/${ask.known}`) ?? [], names);
      if (found.atPath.length > 0) (atPath ??= []).push(...found.atPath);
      if (found.elsewhere.length > 0) (elsewhere ??= []).push(...found.elsewhere);
    }
    if (ask.bad >= 0)
      for (const row of badRows[ask.bad] ?? []) {
        const evidence = badEvidence(ask.algorithm, row, names);
        if (evidence !== undefined) (bad ??= []).push(evidence);
      }
  }
  if (atPath === undefined && elsewhere === undefined && bad === undefined) return NO_EVIDENCE;
  return { atPath: atPath ?? [], elsewhere: (elsewhere ?? []).slice(0, ELSEWHERE_LIMIT), bad: bad ?? [] };
}

/**
 * Where one digest is known: at the query's path (or, on a merged-/usr root, its alias), and elsewhere. `atPathRows`
 * are the rows asked for the path directly, when the digest is known at more places than `rows` lists.
 */
function knownAt(
  q: KnownHashQuery,
  ask: Ask,
  rows: readonly PlaceRow[],
  atPathRows: readonly PlaceRow[],
  names: ResolvedNames,
): { atPath: HashEvidence[]; elsewhere: HashEvidence[] } {
  const atPath: HashEvidence[] = [];
  const elsewhere: HashEvidence[] = [];
  if (rows.length === 0) return { atPath, elsewhere };
  // The alias is worked out only for a row with a path other than the query's (most rows are at it, or hash-only).
  let alias: Buffer | null | undefined = null;
  const isHere = (at: Buffer): boolean => {
    if (at.equals(q.path)) return true;
    if (alias === null) alias = q.usrMerged !== false ? usrAlias(q.path) : undefined;
    return alias !== undefined && at.equals(alias);
  };
  const push = (into: HashEvidence[], row: PlaceRow): void => {
    const evidence = toEvidence(ask.algorithm, row, names);
    if (evidence !== undefined) into.push(evidence);
  };
  if (rows.length > ALL_PLACES_LIMIT) for (const row of atPathRows) push(atPath, row);
  const listed = Math.min(rows.length, ALL_PLACES_LIMIT);
  for (let n = 0; n < listed; n++) {
    const row = rows[n] as PlaceRow;
    const at = row[1];
    const here = at !== null && isHere(at);
    if (here && rows.length <= ALL_PLACES_LIMIT) push(atPath, row);
    else if (!here && elsewhere.length < ELSEWHERE_LIMIT) push(elsewhere, row);
  }
  return { atPath, elsewhere };
}

/** A removal row: which query it explains, why, and the package and source ids. */
interface RemovalRow {
  readonly qi: number;
  readonly reason: string;
  readonly package_id: number | null;
  readonly source_id: number;
}

/** The removals that explain each deleted path (or its usrmerge alias), in query order. */
async function removalsOf(db: PostgresDatabase, queries: readonly KnownHashQuery[], deleted: readonly number[]): Promise<RemovalRow[]> {
  const paths: Buffer[] = [];
  const owners: number[] = [];
  for (const i of deleted) {
    const path = (queries[i] as KnownHashQuery).path;
    const alias = usrAlias(path);
    for (const p of alias === undefined ? [path] : [path, alias]) {
      paths.push(p);
      owners.push(i);
    }
  }
  return prepared<RemovalRow>(db, 'custos_kh_removals_ids', REMOVALS, [paths, owners]);
}

/** The removal evidence of each deleted path, by query index. */
function removalEvidence(rows: readonly RemovalRow[], names: ResolvedNames): Map<number, RemovalEvidence[]> {
  const out = new Map<number, RemovalEvidence[]>();
  for (const r of rows) {
    const source = names.source(r.source_id);
    if (source === undefined) continue;
    const pkg = names.package(r.package_id ?? 0);
    let list = out.get(r.qi);
    if (list === undefined) out.set(r.qi, (list = []));
    list.push({ ...(pkg === undefined ? {} : { package: pkg }), source, reason: r.reason });
  }
  return out;
}

function toEvidence(algorithm: HashAlgorithm, row: PlaceRow, names: ResolvedNames): HashEvidence | undefined {
  const [, path, pkgId, sourceId, declared] = row;
  const source = names.source(sourceId);
  if (source === undefined) return undefined;
  const pkg = names.package(pkgId ?? 0);
  return {
    algorithm,
    ...(path === null ? {} : { path }),
    ...(pkg === undefined ? {} : { package: pkg }),
    source,
    bad: false,
    ...(declared === null ? {} : { declared: declaredOf(declared) }),
  };
}

/** A declaration from its JSON array: [mode, uid, gid, owner, group, observed], nulls for what the source leaves out. */
function declaredOf(json: string): DeclaredMode {
  return declaredMode(...(JSON.parse(json) as [number, number | null, number | null, string | null, string | null, boolean]));
}

function badEvidence(algorithm: HashAlgorithm, row: PlaceRow, names: ResolvedNames): HashEvidence | undefined {
  const source = names.source(row[3]);
  if (source === undefined) return undefined;
  const label = row[4];
  return { algorithm, source, bad: true, ...(label === null ? {} : { label }) };
}
