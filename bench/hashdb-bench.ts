/**
 * Known-hash database benchmark: import speed (the real dpkg database, and N synthetic hash-only rows through
 * the bulk importer NSRL uses) and lookup speed at that size (hits and misses, with and without the Bloom
 * filters), with peak memory. Run: node dist/bench/hashdb-bench.js --rows 10000000 [--db FILE] [--keep]
 */
import { createHash } from 'node:crypto';
import { existsSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDpkg } from '../src/hashdb/import/import-dpkg.js';
import { importRows } from '../src/hashdb/import/import-rows.js';
import type { KnownHashRow } from '../src/hashdb/known-hash-store.js';
import { SqliteKnownHashStore } from '../src/hashdb/sqlite-known-hash-store.js';

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
  if (options.dpkg !== false && existsSync('/var/lib/dpkg/status')) {
    const file = join(tmpdir(), `custos-bench-dpkg-${process.pid}.sqlite`);
    const store = SqliteKnownHashStore.open(file);
    const t = process.hrtime.bigint();
    const summary = await importDpkg(store, { root: '/', host: hostname() });
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    await store.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    figures.push({ name: `import dpkg database (${summary.rows} rows)`, value: summary.rows / seconds, unit: 'rows/s' });
  }
  const fresh = !existsSync(db);
  const store = SqliteKnownHashStore.open(db);
  const have = (await store.stats()).knownRows;
  if (have < options.rows) {
    const t = process.hrtime.bigint();
    const counts = await importRows(store, { kind: 'nsrl', name: 'synthetic' }, syntheticRows(options.rows), undefined, { bulk: true });
    const seconds = Number(process.hrtime.bigint() - t) / 1e9;
    figures.push({ name: `import ${options.rows.toLocaleString('en')} synthetic rows (bulk)`, value: counts.rows / seconds, unit: 'rows/s' });
  } else if (!fresh) {
    figures.push({ name: `reusing ${have.toLocaleString('en')} rows in ${db}`, value: have, unit: 'rows' });
  }
  await store.close();
  figures.push({ name: 'database size', value: statSync(db).size / 1e6, unit: 'MB' });
  for (const bloom of [false, true]) {
    const opened = process.hrtime.bigint();
    const reader = SqliteKnownHashStore.open(db, { bloom });
    if (bloom) figures.push({ name: 'load or build the Bloom filters', value: Number(process.hrtime.bigint() - opened) / 1e9, unit: 's' });
    for (const kind of ['hits', 'misses'] as const) {
      const path = Buffer.from('/usr/bin/x');
      // The digests are made before the clock starts: this measures lookups, not SHA-256.
      const queries = Array.from({ length: options.lookups }, (_, n) => ({
        sha256: digestOf(kind === 'hits' ? Math.floor(Math.random() * options.rows) : options.rows + n).toString('hex'),
      }));
      const check = (found: number): void => {
        if (kind === 'hits' && found !== options.lookups) throw new Error(`only ${found} of ${options.lookups} hits found`);
        if (kind === 'misses' && found !== 0) throw new Error(`${found} misses found`);
      };
      let t = process.hrtime.bigint();
      let found = 0;
      for (const hashes of queries) {
        const r = await reader.lookup(path, hashes);
        if (r.elsewhere.length > 0) found++;
      }
      check(found);
      figures.push({
        name: `lookup ${kind}${bloom ? ', Bloom filter' : ''}`,
        value: options.lookups / (Number(process.hrtime.bigint() - t) / 1e9),
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
  if (options.keep !== true && options.db === undefined) {
    for (const suffix of ['', '-wal', '-shm', '.bloom', '.bad.bloom']) rmSync(`${db}${suffix}`, { force: true });
  }
  return figures;
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
