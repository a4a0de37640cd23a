import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { PostgresDatabase, Queryable } from '../../storage/postgres/postgres-database.js';

/**
 * The channel every import notifies when it moved the generation on, or when one began or ended a window (see
 * below), with the schema as payload (several known-hash databases may share one PostgreSQL database). Sent in the
 * statement that commits the change, so it arrives once it is visible.
 */
export const GENERATION_CHANNEL = 'custos_kh_generation';

/**
 * The first key of every import session's advisory lock: derived from the schema, so the locks of two known-hash
 * databases in one PostgreSQL database (and other applications' locks) are told apart; the second key is the
 * session's own (`kh_imports.lock_key`).
 */
const LOCK_SPACE = "hashtext('custos.kh-import.' || current_schema())";
/**
 * The import's connection tells the server to probe a silent client after this long (then every 10 s, 6 times): a
 * host that vanished without closing its connection (power, network) has its lock, and so its window, ended by
 * PostgreSQL within about two minutes, instead of the kernel's default of two hours.
 */
const KEEPALIVE_IDLE_S = 60;

/**
 * The window of an import in progress, on PostgreSQL. An import commits its rows in batches and moves the
 * generation on only when it ends, so until then the Bloom filters of every manager (tagged with the generation)
 * lack the batches already committed: a digest they call absent may be in the database, a known-bad one among them.
 * So an import that commits a batch before its end (more than one batch of rows) opens a window:
 * - it takes a connection of its own, outside the pool, and on it a session-level advisory lock (LOCK_SPACE, and a
 *   random second key), held until the import ends, and released by PostgreSQL when that connection dies (its
 *   process killed, its host gone: see KEEPALIVE_IDLE_S): liveness that holds across hosts, which a PID does not;
 * - every batch is committed on that connection, with a row in `kh_imports` naming the lock (written with the first
 *   batch, which notifies GENERATION_CHANNEL, so listening managers look at once);
 * - the end removes the row in the transaction that commits the last batch and moves the generation on (and
 *   notifies), then releases the lock and closes the connection.
 * A reader that finds a row (`readDatabaseState`, in the same snapshot as the generation, so there is no moment in
 * which it sees neither the row nor the generation moved) stops believing its filters' "absent" until the row is
 * gone. A row whose lock nobody holds is a dead import's: `closeDeadImports` removes it and moves the generation
 * on in one statement (its committed rows are in the database and in no filter). An import of one batch commits
 * it with the generation in one transaction and has no window at all.
 */
export class ImportConnection {
  readonly #client: pg.Client;
  readonly #token: string;
  readonly #lockKey: number;
  #marked = false;

  private constructor(client: pg.Client, token: string, lockKey: number) {
    this.#client = client;
    this.#token = token;
    this.#lockKey = lockKey;
  }

  /** Opens the connection and takes the session's lock (a random key not already held). */
  static async open(db: PostgresDatabase): Promise<ImportConnection> {
    const client = await db.session();
    try {
      // A connection whose socket died would otherwise keep an unhandled 'error' event (and the process) waiting.
      client.on('error', () => undefined);
      await client.query(
        `SELECT set_config('tcp_keepalives_idle', $1, false), set_config('tcp_keepalives_interval', '10', false), set_config('tcp_keepalives_count', '6', false)`,
        [String(KEEPALIVE_IDLE_S)],
      );
      for (;;) {
        const lockKey = randomInt(1, 2 ** 31 - 1);
        const taken = (await client.query<{ taken: boolean }>(`SELECT pg_try_advisory_lock(${LOCK_SPACE}, $1) AS taken`, [lockKey])).rows[0]?.taken;
        if (taken !== true) continue;
        const connection = new ImportConnection(client, randomBytes(8).toString('hex'), lockKey);
        connection.#hold(false);
        return connection;
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  /** Runs `work` in one transaction on this connection, with the window's row written in it (notified the first time). */
  async batch<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.#transaction(async (tx) => {
      const result = await work(tx);
      // Offered by every batch (a conflict after the first): cheaper to keep than to track whether it stayed.
      const added = await tx.query(
        `WITH m AS (INSERT INTO kh_imports (token, lock_key, who, started_at) VALUES ($1, $2, $3, $4) ON CONFLICT (token) DO NOTHING RETURNING 1)
         SELECT pg_notify($5, current_schema()) FROM m`,
        [this.#token, this.#lockKey, `${hostname()} pid ${process.pid}`, new Date().toISOString(), GENERATION_CHANNEL],
      );
      if ((added.rowCount ?? 0) > 0) this.#marked = true;
      return result;
    });
  }

  /**
   * Ends the window: `work` (the last batch, the source's counts) runs in the transaction that removes the row and,
   * when `moved` (rows were added), moves the generation on; returns the new generation then. The lock and the
   * connection go after, whatever happened.
   */
  async end(work: (tx: Queryable) => Promise<void>, moved: () => boolean): Promise<number | undefined> {
    try {
      return await this.#transaction(async (tx) => {
        await work(tx);
        await tx.query('DELETE FROM kh_imports WHERE token = $1', [this.#token]);
        if (moved()) return moveGeneration(tx);
        // Nothing added: the generation stays, but readers that saw the row are told it is gone.
        if (this.#marked) await tx.query('SELECT pg_notify($1, current_schema())', [GENERATION_CHANNEL]);
        return undefined;
      });
    } finally {
      await this.close();
    }
  }

  /** Releases the lock and closes the connection (an import that failed: a row left behind is a dead import's). */
  async close(): Promise<void> {
    // Ending the session releases its locks; an explicit unlock first would only add a round trip.
    this.#hold(true); // the caller awaits the close: it keeps the process alive until then
    await this.#client.end().catch(() => undefined);
  }

  async #transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    this.#hold(true);
    try {
      await this.#client.query('BEGIN');
      const result = await work(this.#client);
      await this.#client.query('COMMIT');
      return result;
    } catch (error) {
      await this.#client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      this.#hold(false);
    }
  }

  /**
   * Whether the connection keeps the process alive: only while a transaction is on it. Between batches the import's
   * source does that; a session its caller gave up on (a source that threw, and no `finish`) must not keep a command
   * from exiting, and the exit closes the connection, which ends the window (readers find its lock free).
   */
  #hold(on: boolean): void {
    const stream = (this.#client as unknown as { connection?: { stream?: { ref?: () => void; unref?: () => void } } }).connection?.stream;
    if (on) stream?.ref?.();
    else stream?.unref?.();
  }
}

/**
 * Moves the database on a generation (inside the caller's transaction) and notifies GENERATION_CHANNEL; returns the
 * new generation. The notification goes out with the commit: listeners hear of it once it is all visible.
 */
export async function moveGeneration(tx: Queryable): Promise<number> {
  const row = (
    await tx.query<{ value: string }>(
      `WITH moved AS (UPDATE kh_meta SET value = (value::bigint + 1)::text WHERE key = 'generation' RETURNING value)
       SELECT value, pg_notify($1, current_schema()) FROM moved`,
      [GENERATION_CHANNEL],
    )
  ).rows[0];
  return Number(row?.value);
}

/** The database's generation, and whether an import is in progress, from one snapshot. */
export interface DatabaseState {
  readonly generation: number;
  readonly importing: boolean;
}

/** Reads the generation and whether any import's window is open, in one statement (one snapshot, one round trip). */
export async function readDatabaseState(db: PostgresDatabase): Promise<DatabaseState> {
  const row = (
    await db.pool.query<{ generation: string | null; importing: boolean }>({
      name: 'custos_kh_state',
      text: "SELECT (SELECT value FROM kh_meta WHERE key = 'generation') AS generation, EXISTS (SELECT 1 FROM kh_imports) AS importing",
    })
  ).rows[0];
  return { generation: Number(row?.generation ?? 0), importing: row?.importing === true };
}

/**
 * Ends the windows of dead imports: rows of `kh_imports` whose lock no session holds are removed, and the
 * generation moved on, in one statement (so filters built before are stale and rebuilt with the dead imports'
 * rows). A row is written only by a session holding its lock, and removed before that lock is released, so a row
 * seen without its lock is a dead import's; one whose import ended meanwhile is no longer there to delete. Returns
 * whether the generation moved. Throws when it cannot write (a read-only user, a standby: it then sees no lock at
 * all): the window stays open for that reader, which is safe.
 */
export async function closeDeadImports(db: PostgresDatabase): Promise<boolean> {
  const r = await db.pool.query(
    `WITH dead AS (
       DELETE FROM kh_imports m WHERE NOT EXISTS (
         SELECT 1 FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND l.classid = ${LOCK_SPACE}::oid AND l.objid = m.lock_key::oid AND l.objsubid = 2)
       RETURNING 1),
     moved AS (UPDATE kh_meta SET value = (value::bigint + 1)::text WHERE key = 'generation' AND EXISTS (SELECT 1 FROM dead) RETURNING value)
     SELECT value, pg_notify($1, current_schema()) FROM moved`,
    [GENERATION_CHANNEL],
  );
  return (r.rowCount ?? 0) > 0;
}
