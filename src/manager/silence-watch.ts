import type { AgentRef } from '../core/build-alert.js';
import type { Store } from '../storage/store.js';
import type { ManagerMetrics } from './manager-metrics.js';

/**
 * Raises "agent silent" (rule 565) once for each agent not heard from within `silentAfterMs`, marking it silent
 * so the next check does not raise it again (its next request raises "agent back"); revoked agents and the
 * manager's own entry (000) are left out. Updates the connected/silent gauges.
 */
export async function watchSilence(
  store: Store,
  silentAfterMs: number,
  now: Date,
  metrics: Pick<ManagerMetrics, 'agentsConnected' | 'agentsSilent'>,
  raise: (agent: AgentRef, event: 'silent', details: Record<string, unknown>) => Promise<void>,
): Promise<void> {
  let connected = 0;
  let silent = 0;
  for (const agent of await store.listAgentInfos()) {
    if (agent.id === '000' || agent.revokedAt !== undefined) continue;
    const last = agent.lastSeen === undefined ? 0 : Date.parse(agent.lastSeen);
    if (now.getTime() - last <= silentAfterMs) {
      connected++;
      continue;
    }
    silent++;
    if (agent.silentSince === undefined) {
      await store.markAgentSilent(agent.id, now.toISOString());
      await raise({ id: agent.id, name: agent.name }, 'silent', { last_seen: agent.lastSeen, silent_after_s: silentAfterMs / 1000 });
    }
  }
  metrics.agentsConnected = connected;
  metrics.agentsSilent = silent;
}

/** How often the silence check runs: a quarter of the threshold, between 250 ms and 30 s. */
export function silenceCheckEveryMs(silentAfterMs: number): number {
  return Math.max(250, Math.min(30_000, silentAfterMs / 4));
}
