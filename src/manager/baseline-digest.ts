import { StateDigest } from '../core/state-digest.js';
import type { Store } from '../storage/store.js';

/** The digest of an agent's whole baseline, as the agent computes it over its cache (see `StateDigest`). */
export async function baselineDigest(store: Store, agentId: string): Promise<{ digest: string; entries: number }> {
  const digest = new StateDigest();
  for await (const chunk of store.readFingerprints(agentId, [{ from: Buffer.alloc(0), to: Buffer.from([0xff]) }])) {
    for (const entry of chunk) digest.add(entry.key, entry.fingerprint);
  }
  return { digest: digest.hex(), entries: digest.entries };
}
