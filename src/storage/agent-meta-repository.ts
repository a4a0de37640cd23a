/** What one agent stores, as the manager's quota counts it (bytes: the variable-length columns and records). */
export interface AgentUsage {
  readonly baselineEntries: number;
  readonly baselineBytes: number;
  readonly historyRecords: number;
  readonly historyBytes: number;
}

/** Small per-agent settings and markers (`baseline_built`, `scan_roots`, ...), one string value per key; and what the agent stores. */
export interface AgentMetaRepository {
  getMeta(agentId: string, key: string): Promise<string | undefined>;
  setMeta(agentId: string, key: string, value: string): Promise<void>;
  /** What one agent stores: baseline rows and bytes, history records and bytes (kept as rows are written). */
  agentUsage(agentId: string): Promise<AgentUsage>;
}
