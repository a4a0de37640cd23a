/**
 * Known-hash verdicts on PostgreSQL against SQLite, paired: both stores hold the same synthetic rows (made by
 * hashdb-bench.js beforehand), and every round measures one engine right after the other on the same digests, the
 * order swapped each round, so both see the same machine load (a full bench run shares two cores with PostgreSQL's
 * own backends). Each figure is the median of the rounds; the ratio is PostgreSQL's median over SQLite's.
 * Measured in batches of 500, as the manager's ingest asks, in three set-ups: the database alone, both with Bloom
 * filters, and each as a manager opens it (PostgreSQL with filters, SQLite without). Run:
 * node dist/bench/hashdb-engines.js --rows N --sqlite FILE --postgres 'postgres://…?schema=NAME' [--lookups 20000] [--rounds 7] [--json]
 */
import { createHash } from 'node:crypto';
import { loadavg } from 'node:os';
import type { KnownHashQuery, KnownHashStore } from '../src/hashdb/known-hash-store.js';
import { PostgresKnownHashStore } from '../src/hashdb/postgres/postgres-known-hash-store.js';
import { SqliteKnownHashStore } from '../src/hashdb/sqlite-known-hash-store.js';

/** One paired figure: PostgreSQL's median and SQLite's, from the same rounds. */
export interface EngineFigure {
  readonly name: string;
  readonly postgres: number;
  readonly sqlite: number;
  readonly unit: string;
}

const BATCH = 500;
/** Each engine's share of a round lasts at least this long. */
const MIN_ROUND_S = 0.25;
const digestOf = (i: number): Buffer => createHash('sha256').update(`known row ${i}`).digest();

/** The set-ups compared: which stores keep Bloom filters. */
const SETUPS = [
  { name: 'database alone', postgresBloom: false, sqliteBloom: false },
  { name: 'both with Bloom filters', postgresBloom: true, sqliteBloom: true },
  { name: 'as each manager opens it (PostgreSQL with Bloom filters, SQLite without)', postgresBloom: true, sqliteBloom: false },
] as const;

/** What a paired run returns: the figures, and the 1-minute load average's range over the rounds. */
export interface EnginePairs {
  readonly figures: readonly EngineFigure[];
  readonly load: { readonly min: number; readonly max: number };
}

/** Runs the paired rounds: one figure for hits and one for misses in each set-up. */
export async function runEnginePairs(options: { rows: number; sqlite: string; postgres: string; lookups: number; rounds: number }): Promise<EnginePairs> {
  const figures: EngineFigure[] = [];
  const loads: number[] = [];
  for (const setup of SETUPS) {
    const postgres = await PostgresKnownHashStore.open(options.postgres, { bloom: setup.postgresBloom, mustExist: true });
    if (setup.postgresBloom) await postgres.bloomReady();
    const sqlite = SqliteKnownHashStore.open(options.sqlite, { bloom: setup.sqliteBloom, digestIndex: false });
    try {
      for (const kind of ['hits', 'misses'] as const) {
        const pg: number[] = [];
        const lite: number[] = [];
        // A first round for each engine warms caches and JIT; it is not counted.
        for (let round = -1; round < options.rounds; round++) {
          const queries = Array.from({ length: options.lookups }, (_, n) => ({
            path: Buffer.from('/usr/bin/x'),
            hashes: {
              sha256: digestOf(kind === 'hits' ? Math.floor(Math.random() * options.rows) : options.rows + (round + 1) * options.lookups + n).toString('hex'),
            },
          }));
          const order = round % 2 === 0 ? ([postgres, sqlite] as const) : ([sqlite, postgres] as const);
          for (const store of order) {
            const rate = await lookupRate(store, queries, kind);
            if (round >= 0) (store === postgres ? pg : lite).push(rate);
          }
          loads.push(loadavg()[0] ?? 0);
        }
        figures.push({ name: `${kind}, ${setup.name}`, postgres: median(pg), sqlite: median(lite), unit: 'lookups/s' });
      }
    } finally {
      await postgres.close();
      await sqlite.close();
    }
  }
  return { figures, load: { min: Math.min(...loads), max: Math.max(...loads) } };
}

/**
 * Lookups a second for these queries in batches, passed over again until MIN_ROUND_S has gone by (a pass of
 * filtered misses takes a few milliseconds: one garbage collection would decide it); checks every hit was found and
 * no miss was.
 */
async function lookupRate(store: KnownHashStore, queries: readonly KnownHashQuery[], kind: 'hits' | 'misses'): Promise<number> {
  const started = process.hrtime.bigint();
  let asked = 0;
  let seconds = 0;
  do {
    let found = 0;
    for (let b = 0; b < queries.length; b += BATCH) for (const r of await store.lookupMany(queries.slice(b, b + BATCH))) if (r.elsewhere.length > 0) found++;
    if (found !== (kind === 'hits' ? queries.length : 0)) throw new Error(`${kind}: ${found} of ${queries.length} found`);
    asked += queries.length;
    seconds = Number(process.hrtime.bigint() - started) / 1e9;
  } while (seconds < MIN_ROUND_S);
  return asked / seconds;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const sqlite = arg('--sqlite');
  const postgres = arg('--postgres');
  if (sqlite === undefined || postgres === undefined) throw new Error('usage: hashdb-engines.js --rows N --sqlite FILE --postgres URL');
  const { figures, load } = await runEnginePairs({
    rows: Number(arg('--rows') ?? 1_000_000),
    sqlite,
    postgres,
    lookups: Number(arg('--lookups') ?? 20_000),
    rounds: Number(arg('--rounds') ?? 7),
  });
  if (process.argv.includes('--json')) console.log(JSON.stringify({ figures, load }));
  else {
    console.log(`load ${load.min.toFixed(1)}-${load.max.toFixed(1)}`);
    for (const f of figures)
      console.log(
        `${f.name.padEnd(80)} PostgreSQL ${Math.round(f.postgres).toString().padStart(9)}  SQLite ${Math.round(f.sqlite).toString().padStart(9)}  ratio ${(f.postgres / f.sqlite).toFixed(2)}`,
      );
  }
}
