import type { AgentQuota } from '../core/config/custos-config.js';
import type { AgentUsage, Store } from '../storage/store.js';

/** The first limit an agent's usage has reached, in words (`baseline entries 5000 of 5000`), or `undefined`. */
export function quotaReached(usage: AgentUsage, quota: AgentQuota): string | undefined {
  const limits: readonly [string, number, number][] = [
    ['baseline entries', usage.baselineEntries, quota.baselineEntries],
    ['baseline bytes', usage.baselineBytes, quota.baselineBytes],
    ['history records', usage.historyRecords, quota.historyRecords],
    ['history bytes', usage.historyBytes, quota.historyBytes],
  ];
  for (const [what, used, limit] of limits) if (used >= limit) return `${what} ${used} of ${limit}`;
  return undefined;
}

/**
 * Checks an agent against its quota before a batch of it is applied: `undefined` to go on, else why it is
 * refused. Rule 577 is raised once per episode (`raise`), when the agent first meets the limit; the episode ends
 * when it is under every limit again (the quota raised, or its baseline shrunk), so the next one alerts anew.
 * A batch may carry the agent past a limit by at most one batch (5,000 observations): it is checked before, not
 * during, its transaction.
 */
export async function enforceQuota(store: Store, agentId: string, quota: AgentQuota, raise: (reason: string) => Promise<void>): Promise<string | undefined> {
  const reached = quotaReached(await store.agentUsage(agentId), quota);
  const alerted = (await store.getMeta(agentId, 'quota_alerted')) === '1';
  if (reached === undefined) {
    if (alerted) await store.setMeta(agentId, 'quota_alerted', '0');
    return undefined;
  }
  if (!alerted) {
    await store.setMeta(agentId, 'quota_alerted', '1');
    await raise(reached);
  }
  return reached;
}
