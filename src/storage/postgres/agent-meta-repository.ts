import type { AgentUsage } from '../agent-meta-repository.js';
import type { PostgresDatabase, Queryable } from './postgres-database.js';

/** Small per-agent settings and bookkeeping (key, value). */
export class PostgresAgentMetaRepository {
  readonly #db: PostgresDatabase;

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  async get(agentId: string, key: string): Promise<string | undefined> {
    return (await this.#db.query<{ value: string }>('SELECT value FROM agent_meta WHERE agent_id = $1 AND key = $2', [agentId, key])).rows[0]?.value;
  }

  /** What one agent stores (kept by triggers: see the agent_usage migration). */
  async usage(agentId: string): Promise<AgentUsage> {
    const row = (
      await this.#db.query<{ baseline_entries: string; baseline_bytes: string; history_records: string; history_bytes: string }>(
        'SELECT baseline_entries, baseline_bytes, history_records, history_bytes FROM agent_usage WHERE agent_id = $1',
        [agentId],
      )
    ).rows[0];
    return {
      baselineEntries: Number(row?.baseline_entries ?? 0),
      baselineBytes: Number(row?.baseline_bytes ?? 0),
      historyRecords: Number(row?.history_records ?? 0),
      historyBytes: Number(row?.history_bytes ?? 0),
    };
  }

  /** Sets a value; `keep`: a value already there stays; `q`: in a transaction of the caller's. */
  async set(agentId: string, key: string, value: string, keep = false, q: Queryable = this.#db): Promise<void> {
    const onConflict = keep ? 'DO NOTHING' : 'DO UPDATE SET value = excluded.value';
    await q.query(`INSERT INTO agent_meta (agent_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (agent_id, key) ${onConflict}`, [agentId, key, value]);
  }
}
