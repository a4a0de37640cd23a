import { contentDigests } from '../core/content-digests.js';
import { applyDiversions, divertedSource, type Diversions } from '../core/diversions.js';
import type { FileChange } from '../core/file-change.js';
import { NO_EVIDENCE, type EvidenceSet } from '../core/known-hash-policy.js';
import type { KnownHashQuery, KnownHashStore } from '../hashdb/known-hash-store.js';

/**
 * Looks up the new digests of a chunk's changes, and the removals behind its deletions, in one call. While a baseline is first built only the bad lists
 * are asked: a known-bad file must alert even then, and they are small; a full lookup of every file would only
 * slow the first scan down.
 */
export async function evidenceFor(
  changes: readonly { change: FileChange; firstScan: boolean }[],
  knownHashes: KnownHashStore | undefined,
  diversions: Diversions | undefined,
  usrMerged: boolean,
): Promise<readonly EvidenceSet[]> {
  if (knownHashes === undefined) return [];
  const queries: KnownHashQuery[] = [];
  const asked: { change: number; divertedFrom?: number }[] = [];
  changes.forEach(({ change, firstScan }, i) => {
    if (change.kind === 'deleted') {
      // Only a recorded package removal explains a deletion (rare: one probe each).
      if (!firstScan) {
        queries.push({ path: change.path, hashes: {}, deleted: true });
        asked.push({ change: i });
      }
      return;
    }
    const hashes = contentDigests(change.after);
    if (Object.keys(hashes).length === 0) return;
    queries.push({ path: change.path, hashes, badOnly: firstScan, ...(usrMerged ? {} : { usrMerged }) });
    // A diverted file: other packages' content counts here as shipped at the diversion's source path.
    const from = firstScan || diversions === undefined ? undefined : divertedSource(change.path, diversions);
    if (from !== undefined) queries.push({ path: from, hashes, ...(usrMerged ? {} : { usrMerged }) });
    asked.push({ change: i, ...(from === undefined ? {} : { divertedFrom: queries.length - 1 }) });
  });
  if (queries.length === 0) return [];
  const answers = await knownHashes.lookupMany(queries);
  const out: EvidenceSet[] = [];
  let q = 0;
  for (const { change, divertedFrom } of asked) {
    const own = answers[q] ?? NO_EVIDENCE;
    q += divertedFrom === undefined ? 1 : 2;
    const path = (changes[change] as { change: FileChange }).change.path;
    out[change] = diversions === undefined ? own : applyDiversions(path, own, diversions, divertedFrom === undefined ? undefined : answers[divertedFrom]);
  }
  return out;
}
