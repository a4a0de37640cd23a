/**
 * Known-hash database benchmark: import speed (the real dpkg database, and N synthetic hash-only rows through
 * the bulk importer NSRL uses) and lookup speed at that size (hits and misses: the database alone, with the Bloom
 * filters, with the filters and the digest index), with peak memory; `--runs N` measures the lookups N times and
 * prints each run's hits/s and misses/s against issue 17's targets. `--profile` adds where a hit's time goes
 * (the bare primary-key probe, the full evidence query, the digest index's read). Run:
 * node dist/bench/hashdb-bench.js --rows 10000000 [--db FILE] [--keep] [--runs 2] [--profile] [--import-rounds 3]
 * The last figures are the cost of an import of 2,000 rows (a package report) at that size: `hashdb-import-cost.ts`.
 * A 100M-row file is made much faster by `hashdb-fixture.js` (then pass it as --db).
 * `--db postgres://…?schema=NAME` measures the same on PostgreSQL (the database alone and with the Bloom filters;
 * the digest index is SQLite's), and keeps the schema for the next run, as the file is kept.
 */
import { createHash } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDpkg } from '../src/hashdb/import/import-dpkg.js';
import { importRows } from '../src/hashdb/import/import-rows.js';
import type { KnownHashRow, KnownHashStore } from '../src/hashdb/known-hash-store.js';
import Database from 'better-sqlite3';
import { DigestIndexFile } from '../src/hashdb/digest-index-file.js';
import { isPostgresLocation, openKnownHashStore } from '../src/hashdb/open-known-hash-store.js';
import { PostgresKnownHashStore } from '../src/hashdb/postgres/postgres-known-hash-store.js';
import { SqliteKnownHashStore, type KnownHashStoreOptions } from '../src/hashdb/sqlite-known-hash-store.js';
import { measureImportCost } from './hashdb-import-cost.js';

/** One measured figure. */
export interface HashdbFigure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

const digestOf = (i: number): Buffer => createHash('sha256').update(`known row ${i}`).digest();

function* syntheticRows(count: number, batch = 50_000): Generator<KnownHashRow[]> {
  for (let start = 0; start < count; start += batch) {
    const rows: KnownHashRow[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) rows.push({ digest: digestOf(i) });
    yield rows;
  }
}

const LOOKUP_BATCH = 500;
/** Issue 17's targets at 100 million rows, in batches of LOOKUP_BATCH with the filters and the index. */
export const HASHDB_TARGETS = { hits: 200_000, misses: 1_000_000 } as const;

/** The lookup set-ups measured, the database alone first (the reference the others are compared with). */
const SETUPS: readonly { readonly label: string; readonly options: KnownHashStoreOptions }[] = [
  { label: '', options: { bloom: false, digestIndex: false } },
  { label: ', Bloom filter', options: { bloom: true, digestIndex: false } },
  { label: ', Bloom filter + digest index', options: { bloom: true, digestIndex: true } },
  // As `custos manager start` opens it: the same files, built by a thread if missing (the bench waits for it).
  { label: ', as the manager opens it', options: { bloom: true, build: 'background' } },
];

/** Runs the known-hash benchmark and returns its figures. */
export async function runHashdbBench(options: {
  rows: number;
  lookups: number;
  db?: string;
  keep?: boolean;
  dpkg?: boolean;
  runs?: number;
  profile?: boolean;
  /** Imports of 2,000 rows measured (`hashdb-import-cost.ts`); 0 for none. Default 3. */
  importRounds?: number;
}): Promise<HashdbFigure[]> {
  const figures: HashdbFigure[] = [];
  const db = options.db ?? join(tmpdir(), `custos-bench-hashdb-${options.rows}.sqlite`);
  const postgres = isPostgresLocation(db);
  if (options.dpkg !== false && existsSync('/var/lib/dpkg/status')) {
    const file = postgres ? withSchema(db, `custos_bench_dpkg_${process.pid}`) : join(tmpdir(), `custos-bench-dpkg-${process.pid}.sqlite`);
    const store = await openKnownHashStore(file);
    const t = process.hrtime.bigint();
    const summary = await importDpkg(store, { root: '/', host: hostname() });
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    if (store instanceof PostgresKnownHashStore) await store.database.query(`DROP SCHEMA ${store.database.schema} CASCADE`);
    await store.close();
    if (!postgres) for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    figures.push({ name: `import dpkg database (${summary.rows} rows)`, value: summary.rows / seconds, unit: 'rows/s' });
  }
  const existed = postgres || existsSync(db);
  const store = await openKnownHashStore(db);
  const have = (await store.stats()).knownRows;
  const fresh = !existed || have === 0;
  if (have < options.rows) {
    const t = process.hrtime.bigint();
    const counts = await importRows(store, { kind: 'nsrl', name: 'synthetic' }, syntheticRows(options.rows), undefined, { bulk: true });
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    figures.push({ name: `import ${options.rows.toLocaleString('en')} synthetic rows (bulk)`, value: counts.rows / seconds, unit: 'rows/s' });
  } else if (!fresh) {
    figures.push({ name: `reusing ${have.toLocaleString('en')} rows in ${db}`, value: have, unit: 'rows' });
  }
  figures.push({ name: 'database size', value: (await databaseBytes(store, db)) / 1e6, unit: 'MB' });
  await store.close();
  if (options.profile === true && !postgres) figures.push(...profileHits(db, options.rows, options.lookups));
  // The fastest set-up measured: the one the targets are checked against.
  const best = postgres ? ', Bloom filter' : ', Bloom filter + digest index';
  const runs = options.runs ?? 1;
  for (let run = 1; run <= runs; run++) {
    const tag = runs > 1 ? `run ${run}: ` : '';
    const found = await measureLookups(db, options, tag);
    figures.push(...found);
    for (const kind of ['hits', 'misses'] as const) {
      const value = found.find((f) => f.name === `${tag}lookup ${kind}${best}, batches of ${LOOKUP_BATCH}`)?.value ?? 0;
      const reference = found.find((f) => f.name === `${tag}lookup ${kind}, batches of ${LOOKUP_BATCH}`)?.value ?? 1;
      figures.push({
        name: `${tag}${kind}: target ${HASHDB_TARGETS[kind].toLocaleString('en')}/s, measured/target`,
        value: value / HASHDB_TARGETS[kind],
        unit: '×',
      });
      figures.push({ name: `${tag}${kind}: against the database alone`, value: value / reference, unit: '×' });
    }
  }
  // What an import of a package report costs at this size (issue 17: it must not rewrite the saved filters).
  if (!postgres && options.importRounds !== 0) figures.push(...(await measureImportCost(db, 2000, options.importRounds ?? 3)));
  figures.push({ name: 'peak memory (RSS)', value: process.resourceUsage().maxRSS / 1024, unit: 'MB' });
  if (options.keep !== true && options.db === undefined && !postgres) {
    for (const suffix of ['', '-wal', '-shm', '.bloom', '.bad.bloom', '.bloom.log', '.digests', '.digests.log']) rmSync(`${db}${suffix}`, { force: true });
  }
  return figures;
}

/** Opens the store for one set-up. On PostgreSQL the filters are built in the background: the bench waits for them, as a manager's lookups would once they are ready (before, lookups ask the database). */
async function openSetup(db: string, options: KnownHashStoreOptions): Promise<KnownHashStore> {
  if (!isPostgresLocation(db)) {
    const store = SqliteKnownHashStore.open(db, options);
    await store.backgroundBuild();
    return store;
  }
  const store = await openKnownHashStore(db, { bloom: options.bloom === true });
  if (options.bloom === true && store instanceof PostgresKnownHashStore) await store.bloomReady();
  return store;
}

/** One round of lookups in every set-up: hits and misses, one by one and in batches. */
async function measureLookups(db: string, options: { rows: number; lookups: number }, tag: string): Promise<HashdbFigure[]> {
  const figures: HashdbFigure[] = [];
  const postgres = isPostgresLocation(db);
  // The digest index is the SQLite engine's own.
  for (const setup of postgres ? SETUPS.filter((s) => s.options.digestIndex === false || s.options.bloom === false) : SETUPS) {
    const opened = process.hrtime.bigint();
    const reader = await openSetup(db, setup.options);
    if (setup.options.bloom === true) {
      const what = setup.options.digestIndex === true ? 'the digest index' : 'the Bloom filters';
      figures.push({ name: `${tag}load or build ${what}`, value: Number(process.hrtime.bigint() - opened) / 1e9, unit: 's' });
    }
    const bloom = setup.label;
    for (const kind of ['hits', 'misses'] as const) {
      const path = Buffer.from('/usr/bin/x');
      // One lookup at a time is a round trip each on PostgreSQL: fewer of them say as much (what ingest runs is the
      // batched figure below).
      const single = postgres ? Math.min(options.lookups, 2_000) : options.lookups;
      // The digests are made before the clock starts: this measures lookups, not SHA-256.
      const queries = Array.from({ length: options.lookups }, (_, n) => ({
        sha256: digestOf(kind === 'hits' ? Math.floor(Math.random() * options.rows) : options.rows + n).toString('hex'),
      }));
      const check = (found: number, asked = options.lookups): void => {
        if (kind === 'hits' && found !== asked) throw new Error(`only ${found} of ${asked} hits found`);
        if (kind === 'misses' && found !== 0) throw new Error(`${found} misses found`);
      };
      let t = process.hrtime.bigint();
      let found = 0;
      for (const hashes of queries.slice(0, single)) {
        const r = await reader.lookup(path, hashes);
        if (r.elsewhere.length > 0) found++;
      }
      check(found, single);
      figures.push({
        name: `${tag}lookup ${kind}${bloom}`,
        value: single / (Number(process.hrtime.bigint() - t) / 1e9),
        unit: 'lookups/s',
      });
      // As ingest asks: one call per chunk of changes.
      const batches = Array.from({ length: Math.ceil(queries.length / LOOKUP_BATCH) }, (_, b) =>
        queries.slice(b * LOOKUP_BATCH, (b + 1) * LOOKUP_BATCH).map((hashes) => ({ path, hashes })),
      );
      t = process.hrtime.bigint();
      found = 0;
      for (const batch of batches) for (const r of await reader.lookupMany(batch)) if (r.elsewhere.length > 0) found++;
      check(found);
      figures.push({
        name: `${tag}lookup ${kind}${bloom}, batches of ${LOOKUP_BATCH}`,
        value: options.lookups / (Number(process.hrtime.bigint() - t) / 1e9),
        unit: 'lookups/s',
      });
    }
    await reader.close();
  }
  return figures;
}

/**
 * Where a hit's time goes: the same random hits through the bare primary-key probe (B-tree descent and leaf
 * fetch), the store's full evidence query (plus the joins and row conversion), and the digest index's positioned
 * read (if the file is there and current).
 */
function profileHits(db: string, rows: number, lookups: number): HashdbFigure[] {
  const digests = Array.from({ length: lookups }, () => digestOf(Math.floor(Math.random() * rows)));
  const conn = new Database(db, { readonly: true });
  conn.pragma('cache_size = -262144');
  const rate = (probe: (d: Buffer) => unknown): number => {
    const t = process.hrtime.bigint();
    for (const d of digests) if (probe(d) === undefined) throw new Error('a hit was not found');
    return lookups / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  const bare = conn.prepare('SELECT source_id FROM known WHERE digest = ? LIMIT 1').pluck();
  const figures: HashdbFigure[] = [{ name: 'profile: hits, bare primary-key probe', value: rate((d) => bare.get(d)), unit: 'lookups/s' }];
  const full = conn
    .prepare(
      `SELECT p.path, pk.name, s.kind, s.name, d.mode FROM known k JOIN sources s ON s.id = k.source_id LEFT JOIN paths p ON p.id = k.path_id
       LEFT JOIN packages pk ON pk.id = k.package_id LEFT JOIN declared_modes d ON d.path_id = k.path_id AND d.package_id = k.package_id AND d.source_id = k.source_id
       WHERE k.digest = ? AND (NOT EXISTS (SELECT 1 FROM host_packages h WHERE h.source_id = k.source_id)
         OR EXISTS (SELECT 1 FROM host_packages h WHERE h.source_id = k.source_id AND h.package_id = k.package_id)) LIMIT 65`,
    )
    .raw(true);
  figures.push({ name: 'profile: hits, full evidence query (joins, rows)', value: rate((d) => full.all(d)[0]), unit: 'lookups/s' });
  const generation = Number(conn.prepare("SELECT value FROM meta WHERE key = 'generation'").pluck().get());
  conn.close();
  const index = existsSync(`${db}.digests`) ? DigestIndexFile.open(`${db}.digests`, generation) : undefined;
  if (index !== undefined) {
    figures.push({ name: 'profile: hits, digest index read', value: rate((d) => index.find(d)[0]), unit: 'lookups/s' });
    index.close();
  }
  return figures;
}

/** The database's size on disk: the file, or the known-hash tables and their indexes. */
async function databaseBytes(store: KnownHashStore, db: string): Promise<number> {
  if (!(store instanceof PostgresKnownHashStore)) return statSync(db).size;
  const r = await store.database.query<{ bytes: string }>(
    "SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname LIKE 'kh\\_%'",
  );
  return Number(r.rows[0]?.bytes ?? 0);
}

/** The same PostgreSQL URL with another schema. */
function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('schema', schema);
  return u.toString();
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const rows = Number(arg('--rows') ?? 1_000_000);
  const figures = await runHashdbBench({
    rows,
    lookups: Number(arg('--lookups') ?? 200_000),
    ...(arg('--db') === undefined ? {} : { db: arg('--db') as string }),
    keep: process.argv.includes('--keep'),
    dpkg: !process.argv.includes('--no-dpkg'),
    runs: Number(arg('--runs') ?? 1),
    profile: process.argv.includes('--profile'),
    ...(arg('--import-rounds') === undefined ? {} : { importRounds: Number(arg('--import-rounds')) }),
  });
  if (process.argv.includes('--json')) console.log(JSON.stringify(figures));
  else for (const f of figures) console.log(`${f.name.padEnd(48)} ${f.value.toFixed(f.value < 100 ? 2 : 0).padStart(12)} ${f.unit}`);
}
