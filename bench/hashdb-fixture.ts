/**
 * Builds the known-hash benchmark's synthetic database fast: the same rows `hashdb-bench.ts` imports through the
 * bulk importer (SHA-256 of `known row <i>`, hash-only, one `nsrl`/`synthetic` source), hashed on two threads,
 * sorted in memory and appended to the table in digest order, so 100 million rows take minutes, not the import's
 * half hour (more on a loaded machine). Beside it, the Bloom filters and the digest index a reader would build
 * (with the product's own `BloomFilter` and `writeDigestIndex`), from the sorted digests instead of a scan of the
 * table. It measures nothing: it makes the files the lookup figures are measured on.
 * Run: node dist/bench/hashdb-fixture.js --rows 100000000 --db FILE
 */
import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { BloomFilter } from '../src/hashdb/bloom-filter.js';
import { writeDigestIndex, type IndexedRow } from '../src/hashdb/digest-index-file.js';
import { SqliteKnownHashStore } from '../src/hashdb/sqlite-known-hash-store.js';

const HASHER = `
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const all = Buffer.from(workerData.shared);
for (let i = workerData.from; i < workerData.to; i++) createHash('sha256').update('known row ' + i).digest().copy(all, i * 32);
`;

async function hashAll(shared: SharedArrayBuffer, rows: number, threads = 2): Promise<void> {
  const per = Math.ceil(rows / threads);
  await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const worker = new Worker(HASHER, { eval: true, workerData: { shared, from: t * per, to: Math.min(rows, (t + 1) * per) } });
      return new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`hasher exited ${code}`))));
      });
    }),
  );
}

const WIDTH = 32;

/** Writes `rows` synthetic hash-only rows into a new database at `path`. */
export async function buildHashdbFixture(path: string, rows: number, log: (line: string) => void = () => {}): Promise<void> {
  if (existsSync(path)) throw new Error(`${path} exists: the fixture is built into a new file`);
  const store = SqliteKnownHashStore.open(path);
  // An empty bulk import: the source row, exactly as the importer makes it.
  await (await store.beginImport({ kind: 'nsrl', name: 'synthetic' }, { bulk: true })).finish();
  await store.close();

  // Every digest, then a counting sort on the first three bytes (about six digests a bucket at 100M rows), then an
  // insertion sort inside each bucket: memcmp order, the table's key order.
  const shared = new SharedArrayBuffer(rows * WIDTH);
  await hashAll(shared, rows);
  const all = Buffer.from(shared);
  log('hashed');
  const counts = new Uint32Array((1 << 24) + 1);
  for (let i = 0; i < rows; i++) counts[all.readUIntBE(i * WIDTH, 3) + 1]!++;
  for (let b = 1; b < counts.length; b++) counts[b]! += counts[b - 1]!;
  const sorted = Buffer.allocUnsafe(rows * WIDTH);
  const next = counts.slice(0, 1 << 24);
  for (let i = 0; i < rows; i++) {
    const b = all.readUIntBE(i * WIDTH, 3);
    all.copy(sorted, next[b]! * WIDTH, i * WIDTH, (i + 1) * WIDTH);
    next[b]!++;
  }
  log('bucketed');
  const tmp = Buffer.allocUnsafe(WIDTH);
  for (let b = 0; b < 1 << 24; b++) {
    for (let i = counts[b]! + 1; i < counts[b + 1]!; i++) {
      sorted.copy(tmp, 0, i * WIDTH, (i + 1) * WIDTH);
      let j = i - 1;
      while (j >= counts[b]! && Buffer.compare(sorted.subarray(j * WIDTH, (j + 1) * WIDTH), tmp) > 0) {
        sorted.copy(sorted, (j + 1) * WIDTH, j * WIDTH, (j + 1) * WIDTH);
        j--;
      }
      tmp.copy(sorted, (j + 1) * WIDTH);
    }
  }
  log('sorted');

  const db = new Database(path);
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const sourceId = Number(db.prepare("SELECT id FROM sources WHERE kind = 'nsrl' AND name = 'synthetic' AND host = ''").pluck().get());
  const insert = db.prepare('INSERT OR IGNORE INTO known (digest, path_id, package_id, source_id) VALUES (?, 0, 0, ?)');
  let inserted = 0;
  const slice = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) inserted += insert.run(sorted.subarray(i * WIDTH, (i + 1) * WIDTH), sourceId).changes;
  });
  for (let i = 0; i < rows; i += 1_000_000) {
    slice(i, Math.min(rows, i + 1_000_000));
    if (i % 10_000_000 === 0) log(`inserted ${i}`);
  }
  db.prepare('UPDATE sources SET rows = rows + ? WHERE id = ?').run(inserted, sourceId);
  db.prepare("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'").run();
  const generation = Number(db.prepare("SELECT value FROM meta WHERE key = 'generation'").pluck().get());
  db.pragma('journal_mode = WAL');
  db.close();
  log('inserted');

  // As BloomCache builds them: room for half as many again, then every digest; the bad list is empty.
  const known = BloomFilter.forCapacity(rows * 1.5 + 100_000);
  for (let i = 0; i < rows; i++) known.add(sorted.subarray(i * WIDTH, (i + 1) * WIDTH));
  writeFileSync(`${path}.bloom`, known.serialize(generation));
  writeFileSync(`${path}.bad.bloom`, BloomFilter.forCapacity(100_000).serialize(generation));
  log('Bloom filters written');
  function* indexed(): Generator<IndexedRow> {
    for (let i = 0; i < rows; i++) yield { digest: sorted.subarray(i * WIDTH, (i + 1) * WIDTH), placed: false, sourceId };
  }
  writeDigestIndex(`${path}.digests`, generation, rows, indexed());
  log('digest index written');
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const db = arg('--db');
  if (db === undefined) throw new Error('--db FILE is required');
  const started = Date.now();
  await buildHashdbFixture(db, Number(arg('--rows') ?? 1_000_000), (line) => console.error(`${((Date.now() - started) / 1000).toFixed(0)}s ${line}`));
}
