import type { AgentMetaRepository, AgentUsage } from '../agent-meta-repository.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** Per-agent settings and markers in SQLite (the `agent_meta` table). */
export class SqliteAgentMetaRepository implements AgentMetaRepository {
  readonly #conn: SqliteConnection;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
  }

  async getMeta(agentId: string, key: string): Promise<string | undefined> {
    return this.#conn.statement('SELECT value FROM agent_meta WHERE agent_id = ? AND key = ?', 'pluck').get(agentId, key) as string | undefined;
  }

  async setMeta(agentId: string, key: string, value: string): Promise<void> {
    this.setMetaInTransaction(agentId, key, value, false);
  }

  /** Sets a value in the caller's transaction (or on its own); `keep`: a value already there stays. */
  setMetaInTransaction(agentId: string, key: string, value: string, keep: boolean): void {
    const onConflict = keep ? 'DO NOTHING' : 'DO UPDATE SET value = excluded.value';
    this.#conn.statement(`INSERT INTO agent_meta (agent_id, key, value) VALUES (?, ?, ?) ON CONFLICT (agent_id, key) ${onConflict}`).run(agentId, key, value);
  }

  async agentUsage(agentId: string): Promise<AgentUsage> {
    // Kept by triggers in the same transactions as the rows (see the agent_usage migration).
    const row = this.#conn
      .statement('SELECT baseline_entries, baseline_bytes, history_records, history_bytes FROM agent_usage WHERE agent_id = ?', 'raw')
      .get(agentId) as [number, number, number, number] | undefined;
    const [baselineEntries, baselineBytes, historyRecords, historyBytes] = row ?? [0, 0, 0, 0];
    return { baselineEntries, baselineBytes, historyRecords, historyBytes };
  }
}
