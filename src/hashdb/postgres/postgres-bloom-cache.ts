import type { PostgresDatabase } from '../../storage/postgres/postgres-database.js';
import type { Blooms } from '../bloom-cache.js';
import { BloomFilter } from '../bloom-filter.js';

/** Digests read per round trip while a filter is built. */
const FETCH = 50_000;
/**
 * How stale the filters may be: the generation is read at most this often (a round trip costs more than a whole
 * chunk of filtered misses). An import another process finished is seen by lookups within this time, as with
 * SQLite (BLOOM_RECHECK_MS in ../bloom-cache.ts).
 */
const RECHECK_MS = 50;
/**
 * Filters are rebuilt at most this often, and at least this many build times apart: when other managers import
 * every few seconds (agents' package reports), lookups then ask the database (as fast as without filters) rather
 * than every manager reading every digest again and again.
 */
const MIN_REBUILD_GAP_MS = 10_000;
const REBUILD_GAP_FACTOR = 4;
const BITS_PER_KEY = 16;

/**
 * In-memory Bloom filters of the known and known-bad digests of a known-hash database on PostgreSQL, for a
 * long-running reader (the manager). Several managers share the database, so there are no filter files: each
 * builds its own from a snapshot, in the background (lookups ask the database until it is ready), tagged with the
 * database generation the snapshot saw. `forLookups` reads the generation at most every RECHECK_MS: when another
 * process imported since, the filters are dropped at once (lookups ask the database) and rebuilt, so an import is
 * seen by lookups within RECHECK_MS of its end.
 */
export class PostgresBloomCache {
  readonly #db: PostgresDatabase;
  #keep = false;
  #blooms: Blooms | undefined;
  #building: Promise<void> | undefined;
  #closed = false;
  #ready: Promise<void> | undefined;
  readonly #now: () => number;
  #checkedAt = -Infinity;
  #nextBuildAt = 0;

  /** `now`: milliseconds of a monotonic clock (default `performance.now`). */
  constructor(db: PostgresDatabase, now: () => number = () => performance.now()) {
    this.#db = db;
    this.#now = now;
  }

  /** Keeps filters from now on: starts building them; resolves when the first build is done (lookups need not wait). */
  keep(): Promise<void> {
    this.#keep = true;
    this.#ready ??= this.#rebuild();
    return this.#ready;
  }

  /**
   * The filters, if they describe the database as of now (else `undefined`: ask the database). A promise only when
   * the generation is due to be read: most calls answer at once.
   */
  forLookups(): Blooms | undefined | Promise<Blooms | undefined> {
    if (!this.#keep) return undefined;
    const now = this.#now();
    const blooms = this.#blooms;
    if (blooms !== undefined && now - this.#checkedAt < RECHECK_MS) return blooms;
    return this.#recheck(now, blooms);
  }

  async #recheck(now: number, blooms: Blooms | undefined): Promise<Blooms | undefined> {
    if (blooms !== undefined) {
      this.#checkedAt = now;
      if ((await this.generation()) === blooms.generation) return blooms;
      if (this.#blooms === blooms) this.#blooms = undefined;
    }
    // Stale or never built: rebuilt in the background, but not more often than the rebuild gap allows.
    if (this.#building === undefined && now >= this.#nextBuildAt) void this.#rebuild();
    return undefined;
  }

  /** The filters an import of this process adds its digests to, if it keeps any. */
  forImport(): Blooms | undefined {
    return this.#blooms;
  }

  /**
   * An import of this process moved the database to `generation`. Filters that described the generation before
   * it, and took in its rows, now describe this one; when another process imported in between they stay stale.
   */
  imported(blooms: Blooms | undefined, generation: number): void {
    if (blooms !== undefined && blooms.generation === generation - 1) blooms.generation = generation;
  }

  /** The database's generation: every import that added rows moves it on by one. */
  async generation(): Promise<number> {
    const row = (await this.#db.pool.query<{ value: string }>({ name: 'custos_kh_generation', text: "SELECT value FROM kh_meta WHERE key = 'generation'" }))
      .rows[0];
    return Number(row?.value ?? 0);
  }

  /** Stops keeping filters (a build under way stops at its next fetch). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#keep = false;
    this.#blooms = undefined;
    await this.#building;
  }

  #rebuild(): Promise<void> {
    const started = this.#now();
    this.#building ??= this.#build()
      .then((blooms) => {
        if (!this.#closed) this.#blooms = blooms;
        // Each rebuild reads every digest: while other managers import often, this bounds what it costs the database.
        this.#nextBuildAt = started + Math.max(MIN_REBUILD_GAP_MS, REBUILD_GAP_FACTOR * (this.#now() - started));
      })
      .catch(() => undefined) // the database went away: lookups ask it (and fail there, visibly)
      .finally(() => {
        this.#building = undefined;
      });
    return this.#building;
  }

  /** Filters of one snapshot (REPEATABLE READ): the digests and the generation they are tagged with agree. */
  async #build(): Promise<Blooms> {
    const client = await this.#db.connect();
    let broken = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const generation = Number((await client.query<{ value: string }>("SELECT value FROM kh_meta WHERE key = 'generation'")).rows[0]?.value ?? 0);
      const list = async (table: 'kh_known' | 'kh_bad'): Promise<BloomFilter> => {
        const count = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]?.n ?? 0);
        // Room to grow: this process's imports add to the filter in place. 16 bits per key instead of SQLite's 10: a
        // false "maybe" costs a round trip here, not a local probe, and at about 0.1% (blocked, 7 probes) most chunks
        // of 500 unknown digests have none (with 1%, almost every chunk had some). 2 MB per million keys.
        const bloom = BloomFilter.forCapacity(count * 1.5 + 100_000, BITS_PER_KEY);
        // A cursor reads the table in one pass without holding it all in memory (rows come back as raw arrays).
        await client.query(`DECLARE digests NO SCROLL CURSOR FOR SELECT digest FROM ${table}`);
        for (;;) {
          if (this.#closed) throw new Error('closed while building the filters');
          const rows = (await client.query<[Buffer]>({ text: `FETCH ${FETCH} FROM digests`, rowMode: 'array' })).rows;
          for (const [digest] of rows) bloom.add(digest);
          if (rows.length < FETCH) break;
        }
        await client.query('CLOSE digests');
        return bloom;
      };
      const known = await list('kh_known');
      const bad = await list('kh_bad');
      await client.query('COMMIT');
      return { known, bad, generation };
    } catch (error) {
      broken = true;
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
