import type { HashAlgorithm } from '../core/file-state.js';
import type { HashFileResult } from './hash-file.js';
import { packedStat, putPackedStat, STAT_FIELDS, type StatSnapshot } from './packed-stat.js';
import type { InodeAttributesResult } from './read-inode-attributes.js';

// A hashing worker's answer to a batch travels packed: typed arrays and one string of digests instead of a few
// objects per file. The structured clone builds objects slowly (measured: ~2.9 µs a file to read a batch of 256
// results as objects on the receiving thread, ~1.2 µs packed and unpacked with plain literals), and on a first
// scan the receiving thread (which also writes the baseline) is the one the scan waits for.

/** The results of one batch, packed by {@link packHashResults}. */
export interface PackedHashResults {
  readonly count: number;
  /** `STAT_FIELDS` numbers per result (see packed-stat.ts); those of a result in `others` are not used. */
  readonly numbers: Float64Array;
  /** mtime and ctime in ns, two per result. */
  readonly times: BigInt64Array;
  /** The packed results' hex digests, of the batch's algorithms in their order, one result after the other. */
  readonly digests: string;
  /** Per result, its inode attributes: an index into `attributeTable`, or -1 when none were read. */
  readonly attributeAt: Int32Array;
  /** The distinct inode attribute results of the batch (files mostly share theirs). */
  readonly attributeTable: readonly InodeAttributesResult[];
  /** The results that are not plain (a problem, or digests not exactly the batch's), whole, by index. */
  readonly others: readonly { readonly at: number; readonly result: HashFileResult }[];
}

const HEX_LENGTH: Readonly<Record<HashAlgorithm, number>> = { md5: 32, sha1: 40, sha256: 64 };

/** Packs a batch's results (on the hashing thread). */
export function packHashResults(results: readonly HashFileResult[], algorithms: readonly HashAlgorithm[]): PackedHashResults {
  const count = results.length;
  const numbers = new Float64Array(count * STAT_FIELDS);
  const times = new BigInt64Array(count * 2);
  const attributeAt = new Int32Array(count).fill(-1);
  const attributeTable: InodeAttributesResult[] = [];
  const tableIndex = new Map<string, number>();
  // Files without extended attributes share one result object (read-fd-attributes.ts): found by identity first.
  const byObject = new Map<InodeAttributesResult, number>();
  const others: { at: number; result: HashFileResult }[] = [];
  let digests = '';
  results.forEach((result, i) => {
    if (!result.ok || result.issue !== undefined || !hasExactly(result.hashes, algorithms) || !fitsInt64(result.stat)) {
      others.push({ at: i, result });
      return;
    }
    for (const algorithm of algorithms) digests += result.hashes[algorithm] as string;
    putPackedStat(numbers, times, i, result.stat);
    const attributes = result.attributes;
    if (attributes !== undefined) {
      let at = byObject.get(attributes);
      if (at === undefined) {
        // By value: equal text gives an equal result, whatever object it came in.
        const key = JSON.stringify(attributes);
        at = tableIndex.get(key);
        if (at === undefined) {
          at = attributeTable.push(attributes) - 1;
          tableIndex.set(key, at);
        }
        byObject.set(attributes, at);
      }
      attributeAt[i] = at;
    }
  });
  return { count, numbers, times, digests, attributeAt, attributeTable, others };
}

/** The results {@link packHashResults} packed, as `hashFile` returned them (on the receiving thread). */
export function unpackHashResults(packed: PackedHashResults, algorithms: readonly HashAlgorithm[]): HashFileResult[] {
  const { count, numbers, times, digests, attributeAt, attributeTable } = packed;
  const out = new Array<HashFileResult>(count);
  for (const { at, result } of packed.others) out[at] = result;
  let offset = 0;
  for (let i = 0; i < count; i++) {
    if (out[i] !== undefined) continue;
    const hashes: Record<string, string> = {};
    for (const algorithm of algorithms) {
      const end = offset + HEX_LENGTH[algorithm];
      hashes[algorithm] = digests.slice(offset, end);
      offset = end;
    }
    const stat = packedStat(numbers, times, i);
    const a = attributeAt[i] as number;
    out[i] = a < 0 ? { ok: true, hashes, stat } : { ok: true, hashes, stat, attributes: attributeTable[a] as InodeAttributesResult };
  }
  if (offset !== digests.length) throw new Error(`packed hash results: ${digests.length - offset} digest characters left over`);
  return out;
}

/** True when `hashes` holds a well-formed hex digest of each algorithm, and nothing else. */
function hasExactly(hashes: Readonly<Record<string, string | undefined>>, algorithms: readonly HashAlgorithm[]): boolean {
  let n = 0;
  for (const key in hashes) {
    n++;
    const digest = hashes[key];
    if (!algorithms.includes(key as HashAlgorithm) || typeof digest !== 'string' || digest.length !== HEX_LENGTH[key as HashAlgorithm] || !HEX.test(digest))
      return false;
  }
  return n === algorithms.length;
}

const HEX = /^[0-9a-f]*$/;

/** True when both times fit a BigInt64Array (a time past 2262 in ns does not, and would wrap). */
function fitsInt64(st: StatSnapshot): boolean {
  return BigInt.asIntN(64, st.mtimeNs) === st.mtimeNs && BigInt.asIntN(64, st.ctimeNs) === st.ctimeNs;
}
