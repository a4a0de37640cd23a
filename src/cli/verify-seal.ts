import { headSealHolds } from '../core/history-seal.js';
import { projectedBaselineDigest as baselineDigest } from '../manager/projected-digest.js';
import { markerPath, type HistoryMarker } from '../storage/history-marker.js';
import type { Store } from '../storage/store.js';

/**
 * With a history key, what is wrong with the marker's seal, in words, or `undefined` when it holds: the marker
 * must be there and signed, its signature must match its head and baseline digest, and, while no record was
 * added since, the baseline must still have that digest. Someone who rewrote the database and the marker without
 * the key fails the signature; one who copied a row into the baseline fails the digest.
 */
export async function sealProblem(
  store: Store,
  databasePath: string,
  marker: HistoryMarker | undefined,
  key: Buffer,
  agentId: string,
): Promise<string | undefined> {
  if (marker === undefined)
    return `a history key is configured but ${markerPath(databasePath)} is missing: the signed head cannot be checked (it was removed, or no check ran with the key yet)`;
  if (marker.agentId !== agentId) return undefined;
  if (marker.signature === undefined) return `${markerPath(databasePath)} is not signed although a history key is configured: it was written without the key`;
  if (!headSealHolds(key, marker, marker.signature)) {
    return `the signature in ${markerPath(databasePath)} does not match its head: the head or the baseline digest was rewritten by someone without the history key`;
  }
  if (marker.baselineDigest === undefined) return undefined;
  const head = await store.chainHead(agentId);
  // Records after the sealed head come from a check that stopped before sealing; its baseline moved on with them.
  if ((head?.length ?? 0) !== marker.length || head?.lastHash !== marker.lastHash) return undefined;
  const { digest } = await baselineDigest(store, agentId);
  if (digest !== marker.baselineDigest) {
    return `the baseline is not the one sealed at the end of the last check (at ${marker.at}): baseline rows were changed outside custos (digest ${digest}, sealed ${marker.baselineDigest})`;
  }
  return undefined;
}
