import type pg from 'pg';
import type { PeriodicLeadership } from '../periodic-leadership.js';
import type { PostgresDatabase } from './postgres-database.js';

/**
 * Leadership as a PostgreSQL session advisory lock held on a connection of its own (outside the pool): the server
 * releases it the moment that connection ends, so when the leading manager dies (or loses the database) another
 * one's next `isLeader` takes it.
 */
export class AdvisoryLeadership implements PeriodicLeadership {
  readonly #db: PostgresDatabase;
  readonly #key: string;
  #client: pg.Client | undefined;
  #lost = false;

  /** `name` names the work led (one lock per name and schema). */
  constructor(db: PostgresDatabase, name: string) {
    this.#db = db;
    this.#key = `custos.lead.${db.schema}.${name}`;
  }

  #asking: Promise<boolean> | undefined;

  /**
   * Callers at the same moment (several periodic tasks starting together) share one answer: two racing asks would
   * each open a session, and the one that lost the lock to its twin would drop the twin's, leading nobody.
   */
  isLeader(): Promise<boolean> {
    this.#asking ??= this.#ask().finally(() => {
      this.#asking = undefined;
    });
    return this.#asking;
  }

  async #ask(): Promise<boolean> {
    try {
      if (this.#client !== undefined && !this.#lost) {
        // Still connected means still holding: the lock lives as long as the session.
        await this.#client.query('SELECT 1');
        return true;
      }
      await this.#drop();
      const client = await this.#db.session();
      client.on('error', () => (this.#lost = true));
      const { rows } = await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS held', [this.#key]);
      if (rows[0]?.held !== true) {
        await client.end();
        return false;
      }
      this.#client = client;
      return true;
    } catch {
      await this.#drop();
      return false;
    }
  }

  /** Gives the lock up by ending its session. */
  async close(): Promise<void> {
    await this.#drop();
  }

  async #drop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#lost = false;
    // Ending the session releases every lock it held.
    await client?.end().catch(() => undefined);
  }
}
