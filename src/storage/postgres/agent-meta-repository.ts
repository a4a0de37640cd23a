import type { PostgresDatabase } from './postgres-database.js';

/** Small per-agent settings and bookkeeping (key, value). */
export class PostgresAgentMetaRepository {
  readonly #db: PostgresDatabase;

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  async get(agentId: string, key: string): Promise<string | undefined> {
    return (await this.#db.query<{ value: string }>('SELECT value FROM agent_meta WHERE agent_id = $1 AND key = $2', [agentId, key])).rows[0]?.value;
  }

  async set(agentId: string, key: string, value: string): Promise<void> {
    await this.#db.query('INSERT INTO agent_meta (agent_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (agent_id, key) DO UPDATE SET value = excluded.value', [agentId, key, value]);
  }
}
