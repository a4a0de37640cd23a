/**
 * The cost of a small import into a large known-hash database (issue 17: a manager imports every agent's package
 * report, so an import of a few thousand rows must not rewrite the saved filters). Each round imports `rows` new
 * rows with a path and a package, as a package report brings them, through two openings of the store: one that
 * keeps nothing in memory (`custos hashdb import`, the dpkg hook) and one that keeps the filters and the index
 * (the manager). Figures: the median wall time of an import, and the bytes the process handed to `write()`
 * (`wchar` of /proc/self/io: the database's own writes plus whatever is saved beside it).
 * Run: node dist/bench/hashdb-import-cost.js --db FILE [--rows 2000] [--rounds 5]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { importRows } from '../src/hashdb/import/import-rows.js';
import type { KnownHashRow } from '../src/hashdb/known-hash-store.js';
import { SqliteKnownHashStore } from '../src/hashdb/sqlite-known-hash-store.js';
import type { HashdbFigure } from './hashdb-bench.js';

function written(): number {
  const line = readFileSync('/proc/self/io', 'latin1')
    .split('\n')
    .find((l) => l.startsWith('wchar:'));
  return Number(line?.split(/\s+/)[1] ?? 0);
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

/** `rows` rows no earlier round imported: a package report's shape (path, package, SHA-256). */
function reportRows(rows: number, round: string): KnownHashRow[] {
  return Array.from({ length: rows }, (_, i) => ({
    digest: createHash('sha256').update(`report ${round} ${i}`).digest(),
    path: Buffer.from(`/usr/lib/bench-${round}/file-${i}`),
    package: { name: `bench-${round}`, version: '1.0', arch: 'amd64' },
  }));
}

/** Measures `rounds` imports of `rows` rows each through a store that keeps nothing and one that keeps the filters and index. */
export async function measureImportCost(db: string, rows: number, rounds: number): Promise<HashdbFigure[]> {
  const figures: HashdbFigure[] = [];
  const tag = `${process.pid}-${Date.now()}`;
  for (const [opening, [label, options]] of (
    [
      ['one-shot importer (keeps nothing)', { bloom: false, digestIndex: false }],
      ['manager (keeps filters and index)', { bloom: true, digestIndex: true }],
    ] as const
  ).entries()) {
    const store = SqliteKnownHashStore.open(db, options);
    const seconds: number[] = [];
    const bytes: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const batch = reportRows(rows, `${tag}-${opening}-${round}`);
      const w = written();
      const t = process.hrtime.bigint();
      const counts = await importRows(store, { kind: 'manifest', name: `bench-report-${round}` }, [batch]);
      if (counts.inserted !== rows) throw new Error(`${counts.inserted} of ${rows} rows were new`);
      seconds.push(Number(process.hrtime.bigint() - t) / 1e9);
      bytes.push(written() - w);
    }
    await store.close();
    figures.push({ name: `import of ${rows.toLocaleString('en')} rows, ${label}: median time`, value: median(seconds) * 1000, unit: 'ms' });
    figures.push({ name: `import of ${rows.toLocaleString('en')} rows, ${label}: median bytes written`, value: median(bytes) / 1e6, unit: 'MB' });
  }
  return figures;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const db = arg('--db');
  if (db === undefined) throw new Error('--db FILE is required');
  const figures = await measureImportCost(db, Number(arg('--rows') ?? 2000), Number(arg('--rounds') ?? 5));
  for (const f of figures) console.log(`${f.name.padEnd(72)} ${f.value.toFixed(2).padStart(10)} ${f.unit}`);
}
