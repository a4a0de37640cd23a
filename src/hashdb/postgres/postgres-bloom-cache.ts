import type pg from 'pg';
import type { PostgresDatabase } from '../../storage/postgres/postgres-database.js';
import type { Blooms } from '../bloom-cache.js';
import { BloomFilter } from '../bloom-filter.js';
import { closeDeadImports, GENERATION_CHANNEL, readDatabaseState } from './postgres-import-window.js';

export { GENERATION_CHANNEL } from './postgres-import-window.js';

/** Digests read per round trip while a filter is built. */
const FETCH = 50_000;
/**
 * How stale the filters may be: the generation is read at most this often (a round trip costs more than a whole
 * chunk of filtered misses). An import another process finished is seen by lookups within this time, as with
 * SQLite (BLOOM_RECHECK_MS in ../bloom-cache.ts).
 */
const RECHECK_MS = 50;
/**
 * While this process listens for imports (GENERATION_CHANNEL), the generation is read this seldom: a notification
 * says when it moved, at once. The read stays as a guard against a listening connection that stalled without an
 * error (then an import is seen within this time).
 */
const LISTENING_RECHECK_MS = 1_000;
/** How long after a lost listening connection another is tried (meanwhile the generation is read every RECHECK_MS). */
const RELISTEN_MS = 1_000;
/**
 * While an import is in progress (its window open, see `ImportConnection`) and this process listens, the database is
 * read this often: a notification says when the import ended, so this read is for an importer that died (whose lock
 * PostgreSQL released: the reader then ends its window, `closeDeadImports`). Not listening, RECHECK_MS.
 */
const OPEN_RECHECK_MS = 1_000;
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
 * database generation the snapshot saw. When another process imported since, the filters are dropped at once
 * (lookups ask the database) and rebuilt. How the cache learns of an import:
 * - it LISTENs on GENERATION_CHANNEL on a connection of its own: an import's notification makes the next lookup read
 *   the generation, so the import is seen as soon as the notification arrives, and lookups never wait for a read
 *   otherwise (except once every LISTENING_RECHECK_MS, the guard against a stalled connection);
 * - while that connection is down, `forLookups` reads the generation at most every RECHECK_MS, so an import is seen
 *   within RECHECK_MS of its end (measured: a read every 50 ms halved the rate of filtered misses on a loaded machine).
 * The same read says whether an import is in progress (a row of `kh_imports`): its committed batches are in the
 * database and in no filter, so until it ends the filters are not believed (lookups ask the database) but kept, and
 * the import's end, a new generation, makes them stale as any import does. An import notifies its first batch, so
 * a listening cache stops believing its filters as soon as that arrives; polling, within RECHECK_MS.
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
  /** An import's window was open at the last read: the filters are kept but not believed. */
  #importing = false;
  /** When the dead imports are looked for next, while a window is open. */
  #deadCheckAt = -Infinity;
  #nextBuildAt = 0;
  /** The listening connection, once LISTEN has succeeded on it; undefined while there is none. */
  #listener: pg.Client | undefined;
  #listening: Promise<void> | undefined;
  #relisten: NodeJS.Timeout | undefined;

  /** `now`: milliseconds of a monotonic clock (default `performance.now`). */
  constructor(db: PostgresDatabase, now: () => number = () => performance.now()) {
    this.#db = db;
    this.#now = now;
  }

  /** Keeps filters from now on: starts building them; resolves when the first build is done (lookups need not wait). */
  keep(): Promise<void> {
    this.#keep = true;
    this.#listening ??= this.#listen();
    this.#ready ??= Promise.all([this.#rebuild(), this.#listening]).then(() => undefined);
    return this.#ready;
  }

  /** Whether imports are being heard of by notification (else the generation is polled every RECHECK_MS). */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  /**
   * The filters, if they describe the database as of now (else `undefined`: ask the database). A promise only when
   * the generation is due to be read: most calls answer at once.
   */
  forLookups(): Blooms | undefined | Promise<Blooms | undefined> {
    if (!this.#keep) return undefined;
    const now = this.#now();
    const blooms = this.#blooms;
    if (blooms !== undefined && now - this.#checkedAt < (this.#listener === undefined ? RECHECK_MS : this.#importing ? OPEN_RECHECK_MS : LISTENING_RECHECK_MS))
      return this.#importing ? undefined : blooms;
    return this.#recheck(now, blooms);
  }

  /**
   * Opens the listening connection (never throws: without it the generation is polled). On a notification for this
   * schema, or when the connection is lost (notifications missed meanwhile), the next lookup reads the generation.
   */
  async #listen(): Promise<void> {
    if (this.#closed || !this.#keep) return;
    let client: pg.Client | undefined;
    try {
      client = await this.#db.session();
      // The listening socket alone must not keep a process alive (a command, or a test that failed before closing
      // its store, would never exit): the manager's own server and timers do that.
      (client as unknown as { connection?: { stream?: { unref?: () => void } } }).connection?.stream?.unref?.();
      const lost = (): void => {
        if (this.#listener === client) this.#listener = undefined;
        this.#checkedAt = -Infinity;
        void client?.end().catch(() => undefined);
        this.#scheduleRelisten();
      };
      client.on('error', lost);
      client.on('end', lost);
      client.on('notification', (message) => {
        if (message.channel === GENERATION_CHANNEL && message.payload === this.#db.schema) this.#checkedAt = -Infinity;
      });
      await client.query(`LISTEN ${GENERATION_CHANNEL}`);
      if (this.#closed) {
        await client.end();
        return;
      }
      this.#listener = client;
      // Imports while no connection listened were not heard of: read the generation at the next lookup.
      this.#checkedAt = -Infinity;
    } catch {
      // Cannot listen (the database went away, or too many connections): the generation is polled; try again later.
      void client?.end().catch(() => undefined);
      this.#scheduleRelisten();
    }
  }

  async #recheck(now: number, blooms: Blooms | undefined): Promise<Blooms | undefined> {
    if (blooms !== undefined) {
      this.#checkedAt = now;
      let state = await readDatabaseState(this.#db);
      if (state.importing && now >= this.#deadCheckAt) {
        this.#deadCheckAt = now + OPEN_RECHECK_MS;
        // A dead import's window is ended here (the generation moves on: these filters are stale); a reader that
        // cannot write keeps asking the database, which is right, only slower.
        if (await closeDeadImports(this.#db).catch(() => false)) state = await readDatabaseState(this.#db);
      }
      this.#importing = state.importing;
      if (state.generation === blooms.generation) return state.importing ? undefined : blooms;
      if (this.#blooms === blooms) this.#blooms = undefined;
    }
    // Stale or never built: rebuilt in the background, but not more often than the rebuild gap allows.
    if (this.#building === undefined && now >= this.#nextBuildAt) void this.#rebuild();
    return undefined;
  }

  /** Tries to listen again after RELISTEN_MS (once at a time, never after close). */
  #scheduleRelisten(): void {
    if (this.#closed || this.#relisten !== undefined) return;
    this.#relisten = setTimeout(() => {
      this.#relisten = undefined;
      this.#listening = this.#listen();
    }, RELISTEN_MS).unref();
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

  /** Whether the last read of the database found an import in progress (the filters not believed meanwhile). */
  get importing(): boolean {
    return this.#importing;
  }

  /** Stops keeping filters (a build under way stops at its next fetch). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#keep = false;
    this.#blooms = undefined;
    if (this.#relisten !== undefined) clearTimeout(this.#relisten);
    await this.#listening;
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#building;
  }

  #rebuild(): Promise<void> {
    const started = this.#now();
    this.#building ??= this.#build()
      .then((blooms) => {
        if (this.#closed) return;
        this.#blooms = blooms;
        // Read the database at the next lookup: an import may have opened its window since the last read.
        this.#checkedAt = -Infinity;
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
