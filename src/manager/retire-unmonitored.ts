import type { AgentRef } from '../core/build-alert.js';
import type { EventRecord } from '../core/event-record.js';
import { UNKNOWN_VERDICT } from '../core/known-hash-verdict.js';
import { isWithin, pathFromKey } from '../core/path-bytes.js';
import type { Store } from '../storage/store.js';

const CHUNK = 500;

/** Why a retired entry left the baseline, as the history records it. */
export const NO_LONGER_MONITORED = 'no longer monitored: outside every directory the agent is configured to watch';

/**
 * Retires from an agent's baseline everything outside the directories its last scan covered (a directory removed
 * from its configuration): each entry leaves the baseline with a history record saying it is no longer monitored,
 * never an alert, so the files are not reported deleted (they still exist). The directories themselves are
 * forgotten as scanned, so one added back later builds its baseline again. Returns how many entries were retired.
 */
export async function retireUnmonitored(store: Store, agent: AgentRef, roots: readonly Buffer[], now: () => Date): Promise<number> {
  const outside: Buffer[] = [];
  for await (const chunk of store.readFingerprints(agent.id, [{ from: Buffer.alloc(0), to: Buffer.from([0xff]) }])) {
    for (const entry of chunk) {
      const path = pathFromKey(entry.key);
      if (!roots.some((root) => isWithin(path, root))) outside.push(path);
    }
  }
  for (let i = 0; i < outside.length; i += CHUNK) {
    const paths = outside.slice(i, i + CHUNK);
    const states = await store.getBaselineStates(agent.id, paths);
    const timestamp = now().toISOString();
    const events: EventRecord[] = [];
    for (const state of states.values()) {
      events.push({
        agentId: agent.id,
        timestamp,
        change: { kind: 'deleted', path: state.path, before: state, changedAttributes: [] },
        verdict: UNKNOWN_VERDICT,
        outcome: 'recorded',
        reason: NO_LONGER_MONITORED,
      });
    }
    await store.commit({ agentId: agent.id, upserts: [], deletes: paths, events });
  }
  const stale = (await store.scannedRoots(agent.id)).filter((scanned) => !roots.some((root) => isWithin(scanned, root)));
  if (stale.length > 0) await store.unmarkRootsScanned(agent.id, stale);
  return outside.length;
}
