import type { PendingBaseline } from '../analysis/ingest-observations.js';
import { pathKey } from '../core/path-bytes.js';
import { StateDigest } from '../core/state-digest.js';
import { storedFingerprint } from '../core/state-fingerprint.js';
import type { BaselineRepository } from '../storage/baseline-repository.js';

const EVERYTHING = [{ from: Buffer.alloc(0), to: Buffer.from([0xff]) }];

/**
 * The digest an agent's baseline will have once `pending` is committed (see `StateDigest`): the stored baseline,
 * read in key order, merged with the rows the batch is about to write. This lets the batch that ends a scan decide
 * whether the agent is out of sync before it commits, and commit that alert with it. Without `pending`, the
 * digest of the baseline as stored.
 */
export async function projectedBaselineDigest(
  store: BaselineRepository,
  agentId: string,
  pending: PendingBaseline = { upserts: [], deletes: [] },
): Promise<{ digest: string; entries: number }> {
  // The same precedence as the store's commit: upserts in order (the last one of a path wins), then deletes.
  const changed = new Map<string, { key: Buffer; fingerprint: string | undefined }>();
  for (const state of pending.upserts) {
    const key = pathKey(state.path);
    changed.set(key.toString('latin1'), { key, fingerprint: storedFingerprint(state) });
  }
  for (const path of pending.deletes) {
    const key = pathKey(path);
    changed.set(key.toString('latin1'), { key, fingerprint: undefined });
  }
  const digest = new StateDigest();
  // Rows the batch writes that the stored baseline may not have, in key order, merged in as the stored rows pass.
  const written = [...changed.values()].filter((c) => c.fingerprint !== undefined).sort((a, b) => Buffer.compare(a.key, b.key));
  let next = 0;
  const addWrittenBefore = (key: Buffer | undefined): void => {
    for (; next < written.length; next++) {
      const row = written[next] as { key: Buffer; fingerprint: string };
      if (key !== undefined && Buffer.compare(row.key, key) >= 0) return;
      digest.add(row.key, row.fingerprint);
    }
  };
  for await (const chunk of store.readFingerprints(agentId, EVERYTHING)) {
    for (const entry of chunk) {
      addWrittenBefore(entry.key);
      // A stored row the batch rewrites or deletes: the written one (merged above or next) stands for it.
      if (!changed.has(entry.key.toString('latin1'))) digest.add(entry.key, entry.fingerprint);
    }
  }
  addWrittenBefore(undefined);
  return { digest: digest.hex(), entries: digest.entries };
}
