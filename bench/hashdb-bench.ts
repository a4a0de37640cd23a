/**
 * Known-hash database benchmark: import speed (the real dpkg database, and N synthetic hash-only rows through
 * the bulk importer NSRL uses) and lookup speed at that size (hits and misses, with and without the Bloom
 * filters), with peak memory. Run: node dist/bench/hashdb-bench.js --rows 10000000 [--db FILE] [--keep]
 * `--db postgres://…?schema=NAME` measures the same on PostgreSQL (the schema is kept for the next run, as the file is).
 */
import { createHash } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDpkg } from '../src/hashdb/import/import-dpkg.js';
import { importRows } from '../src/hashdb/import/import-rows.js';
import type { KnownHashRow, KnownHashStore } from '../src/hashdb/known-hash-store.js';
import { isPostgresLocation, openKnownHashStore } from '../src/hashdb/open-known-hash-store.js';
import { PostgresKnownHashStore } from '../src/hashdb/postgres/postgres-known-hash-store.js';

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

/** Runs the known-hash benchmark and returns its figures. */
const LOOKUP_BATCH = 500;

export async function runHashdbBench(options: { rows: number; lookups: number; db?: string; keep?: boolean; dpkg?: boolean }): Promise<HashdbFigure[]> {
  const figures: HashdbFigure[] = [];
  const db = options.db ?? join(tmpdir(), `custos-bench-hashdb-${options.rows}.sqlite`);
  const postgres = isPostgresLocation(db);
  // On PostgreSQL the filters are built in the background: the bench waits for them, as a manager's lookups would
  // once they are ready (before, lookups ask the database).
  const open = async (bloom: boolean): Promise<KnownHashStore> => {
    const store = await openKnownHashStore(db, { bloom });
    if (bloom && store instanceof PostgresKnownHashStore) await store.bloomReady();
    return store;
  };
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
  const store = await open(false);
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
  for (const bloom of [false, true]) {
    const opened = process.hrtime.bigint();
    const reader = await open(bloom);
    if (bloom) figures.push({ name: 'load or build the Bloom filters', value: Number(process.hrtime.bigint() - opened) / 1e9, unit: 's' });
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
        name: `lookup ${kind}${bloom ? ', Bloom filter' : ''}`,
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
        name: `lookup ${kind}${bloom ? ', Bloom filter' : ''}, batches of ${LOOKUP_BATCH}`,
        value: options.lookups / (Number(process.hrtime.bigint() - t) / 1e9),
        unit: 'lookups/s',
      });
    }
    await reader.close();
  }
  figures.push({ name: 'peak memory (RSS)', value: process.resourceUsage().maxRSS / 1024, unit: 'MB' });
  if (options.keep !== true && options.db === undefined && !postgres) {
    for (const suffix of ['', '-wal', '-shm', '.bloom', '.bad.bloom']) rmSync(`${db}${suffix}`, { force: true });
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
  });
  if (process.argv.includes('--json')) console.log(JSON.stringify(figures));
  else for (const f of figures) console.log(`${f.name.padEnd(48)} ${f.value.toFixed(f.value < 100 ? 2 : 0).padStart(12)} ${f.unit}`);
}
