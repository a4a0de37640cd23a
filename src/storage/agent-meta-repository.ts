/** Small per-agent settings and markers (`baseline_built`, `scan_roots`, ...), one string value per key. */
export interface AgentMetaRepository {
  getMeta(agentId: string, key: string): Promise<string | undefined>;
  setMeta(agentId: string, key: string, value: string): Promise<void>;
}
