import { constants } from 'node:fs';
import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';
import { CHECK_ALL, hashAlgorithmsOf, inodeAttributeRequest } from '../core/check-set.js';
import type { HashAlgorithm } from '../core/file-state.js';
import { INODE_ATTRIBUTE_FIELDS, wantsInodeAttributes, type InodeAttributeRequest } from '../core/inode-attributes.js';
import type { Observation } from '../core/observation.js';
import { hostPathOf, isWithin, pathFromKey } from '../core/path-bytes.js';
import type { ScanScope, ScopeRoot } from '../core/scan-scope.js';
import { fingerprint, fingerprintType, requestedDigests } from '../core/state-fingerprint.js';
import { buildFileState, typeOfFormat } from './build-file-state.js';
import { FingerprintCursor, type CachedFingerprint, type FingerprintChunk } from '../core/fingerprint-cursor.js';
import type { HashPool } from './hash-pool.js';
import type { MountTable } from './mount-table.js';
import { attributesOf, attributesReadable, observationsOf, type HashJob } from './observe-hashed.js';
import { RootCoverage, type UnscannableRoot } from './root-coverage.js';
import type { ScanPacer } from './scan-pacer.js';
import type { ScanStats } from './scan-stats.js';
import type { ThreadPriority } from './thread-priority.js';
import type { UserNames } from './user-names.js';
import { threadedWalk, type WalkThread } from './threaded-walk.js';
import type { PackedEntry } from './walk-chunk.js';
import { skippedOnPurpose, walkTree, type WalkEntry } from './walk-tree.js';

export type { CachedFingerprint } from '../core/fingerprint-cursor.js';

/**
 * Everything one scan needs. `cache` yields the fingerprints of what the last scan saw under the scope's
 * top-level roots, in key order, in chunks (the merge awaits once per chunk): entries, or packed pages.
 */
export interface ScanTreeOptions {
  readonly scope: ScanScope;
  readonly mounts: MountTable;
  readonly rootDir?: Buffer;
  readonly pool: HashPool;
  readonly names: UserNames;
  readonly maxFileSizeBytes: number;
  /** Read every file even when its fingerprint says it is unchanged. */
  readonly rehash: boolean;
  readonly cache: AsyncIterable<FingerprintChunk>;
  readonly stats: ScanStats;
  readonly signal?: AbortSignal;
  /** Walk in a thread of its own (the default), or in this one. */
  readonly walkInThread?: boolean;
  /** A walk of `scope` already started (see `startScanWalk`): used instead of starting one, and stopped at the end. */
  readonly walk?: WalkThread;
  /**
   * Note in `stats.unscannableRoots` each monitored directory the scan finds nothing to scan in. For scans of
   * the configured directories, not for a realtime look at a few paths (a path deleted there is no news).
   */
  readonly checkRoots?: boolean;
  /** Holds the scan to its rate and CPU limits (a scheduled scan); absent: full speed. */
  readonly pacer?: ScanPacer;
  /** The priorities of the walk thread; the hashing threads have theirs from the pool. */
  readonly walkPriority?: ThreadPriority;
}

/** Unscanned subtrees named (and alerted) one by one; beyond these, a count. */
const MAX_UNSCANNED_SAMPLES = 50;
const BATCH_FILES = 256;
const BATCH_BYTES = 32 << 20;
const CHUNK = 512;

/**
 * Scans the scope and yields what changed, in chunks: the walk is merge-joined with the cached fingerprints (both
 * in key order), so an entry whose fingerprint is unchanged costs one `lstat` and yields nothing, an entry the
 * cache lacks or that differs is observed (regular files hashed in the worker pool), and a cached entry the walk
 * no longer finds is observed as gone: deletions are found by every scan. Per-file problems ride on the states.
 */
export async function* scanTree(options: ScanTreeOptions): AsyncGenerator<readonly Observation[]> {
  const { scope, pool, stats } = options;
  const cache = new FingerprintCursor(options.cache[Symbol.asyncIterator]());
  const inflight = new Set<Promise<Observation[]>>();
  const settled: Observation[][] = [];
  const failures: unknown[] = [];
  const batches = new Map<string, { jobs: HashJob[]; bytes: number; plan: RootPlan }>();
  const plans = new Map<ScopeRoot, RootPlan>();
  let ready: Observation[] = [];
  let lastUnscanned: { path: Buffer; includesSelf: boolean } | undefined;
  let sinceYield = 0;
  const coverage = options.checkRoots === true ? new RootCoverage(scope) : undefined;
  const lostSubtrees: UnscannableRoot[] = [];

  const gone = (cached: CachedFingerprint): void => {
    const path = pathFromKey(cached.key);
    const inUnscanned = lastUnscanned !== undefined && isWithin(path, lastUnscanned.path) && (lastUnscanned.includesSelf || !path.equals(lastUnscanned.path));
    if (inUnscanned || !scope.isMonitored(path, fingerprintType(cached.fingerprint))) stats.kept++;
    else ready.push({ path, checks: scope.governing(path)?.directory.checks ?? CHECK_ALL, inBaseline: true });
  };
  const flush = (key: string): void => {
    const batch = batches.get(key);
    if (batch === undefined) return;
    batches.delete(key);
    const paths = batch.jobs.map((j) => j.entry.readPath ?? hostPathOf(j.entry.path, options.rootDir));
    const expected = batch.jobs.map((j) => j.entry.stat);
    const task = pool
      .hash(paths, batch.plan.algorithms, options.maxFileSizeBytes, undefined, expected, batch.plan.attributes)
      .then((results) => observationsOf(batch.jobs, results, options));
    inflight.add(task);
    task.then(
      (observations) => {
        inflight.delete(task);
        settled.push(observations);
      },
      (error: unknown) => {
        inflight.delete(task);
        failures.push(error);
      },
    );
  };
  const drainSettled = (): void => {
    if (failures.length > 0) throw failures[0];
    for (const observations of settled.splice(0)) for (const o of observations) ready.push(o);
  };

  if (options.walk !== undefined && options.walk.scope !== scope) throw new Error('the walk started for this scan is of another scope');
  const walkOptions = { mounts: options.mounts, ...(options.rootDir === undefined ? {} : { rootDir: options.rootDir }) };
  // An unchanged entry looked at where it lies in the walk's chunk, without its item, when nothing else wants the
  // item: no pacing, no root still to be seen, nothing to yield to. What this does not settle goes the long way.
  const unchangedInPlace = (entry: PackedEntry): boolean => {
    if (!cache.has() || sinceYield + 1 >= CHUNK || inflight.size >= pool.size * 2 || coverage?.settled === false) return false;
    if (cache.compareKeyAt(entry.bytes, entry.keyStart, entry.keyEnd) !== 0) return false;
    let plan = plans.get(entry.root);
    if (plan === undefined) plans.set(entry.root, (plan = planOf(entry.root)));
    const n = entry.numbers;
    const f = entry.at;
    const format = n[f + 7] as number;
    const st = { size: n[f] as number, inode: n[f + 4] as number, dev: n[f + 5] as number, uid: n[f + 2] as number, gid: n[f + 3] as number };
    const mtimeNs = entry.times[entry.timeAt] as bigint;
    const ctimeNs = entry.times[entry.timeAt + 1] as bigint;
    if (!cache.fingerprintIs(fingerprintOf(format, st, mtimeNs, ctimeNs, entry.attributesReadable, plan, options.names))) return false;
    cache.advance();
    stats.entries++;
    if (format === constants.S_IFREG && plan.algorithms.length > 0) stats.reused++;
    sinceYield++;
    return true;
  };
  const skip = options.rehash || options.pacer !== undefined ? undefined : unchangedInPlace;
  const items =
    options.walk !== undefined
      ? options.walk.items(skip)
      : options.walkInThread === false
        ? walkTree(scope, walkOptions)
        : threadedWalk(scope, walkOptions, options.walkPriority, skip);
  for (const item of items) {
    options.signal?.throwIfAborted();
    if (item.kind === 'wait') {
      await item.until;
      drainSettled();
      continue;
    }
    coverage?.saw(item);
    let order = cache.has() || (await cache.fill()) ? cache.compareKey(item.key) : 1;
    while (order < 0) {
      gone(cache.entry());
      cache.advance();
      order = cache.has() || (await cache.fill()) ? cache.compareKey(item.key) : 1;
    }
    // The cached entry of this path, if any: the cursor is left on it until its fingerprint has been compared.
    const inCache = order === 0;
    if (item.kind === 'unscanned') {
      stats.unscanned++;
      if (!skippedOnPurpose(item.issue) && item.issue.code !== 'symlink-loop') {
        stats.unscannedHiding++;
        if (stats.unscannedSamples.length < MAX_UNSCANNED_SAMPLES) stats.unscannedSamples.push({ path: item.path, issue: item.issue });
      }
      if (inCache) {
        stats.kept++;
        cache.advance();
      }
      // A directory the baseline holds that can no longer be entered (a skipped file system mounted over it, or
      // it became unreadable): its subtree is hidden, so it is alerted like a monitored directory not scanned.
      if (inCache && item.includesSelf && coverage !== undefined)
        lostSubtrees.push({ path: item.path, reason: `no longer scanned: ${item.issue.message}; its baseline is kept` });
      lastUnscanned = { path: item.path, includesSelf: item.includesSelf };
      continue;
    }
    stats.entries++;
    const isFile = item.stat.format === constants.S_IFREG;
    let plan = plans.get(item.root);
    if (plan === undefined) plans.set(item.root, (plan = planOf(item.root)));
    const { algorithms } = plan;
    let toHash = 0;
    const unchanged = inCache && !options.rehash && cache.fingerprintIs(expectedFingerprint(item, plan, options.names));
    if (inCache) cache.advance();
    if (unchanged) {
      if (isFile && algorithms.length > 0) stats.reused++;
    } else if (!isFile || algorithms.length === 0) {
      const attributes = attributesOf(item, item.stat, options.rootDir);
      const current = buildFileState(item, options.names, attributes === undefined ? {} : { attributes });
      ready.push({ path: item.path, current, checks: item.root.directory.checks, inBaseline: inCache });
    } else {
      const { key } = plan;
      const batch = batches.get(key) ?? { jobs: [], bytes: 0, plan };
      batches.set(key, batch);
      batch.jobs.push({ entry: item, inBaseline: inCache });
      batch.bytes += item.stat.size;
      toHash = item.stat.size;
      if (batch.jobs.length >= BATCH_FILES || batch.bytes >= BATCH_BYTES) flush(key);
    }
    const pause = options.pacer?.account(1, toHash) ?? 0;
    if (pause > 0) {
      // The walk thread and the hashing workers run out of work while this waits (they only run ahead so far).
      await sleep(pause);
      drainSettled();
    }
    if (++sinceYield >= CHUNK || inflight.size >= pool.size * 2) {
      sinceYield = 0;
      // Let worker replies in; while the pool is saturated, wait for one batch to finish.
      if (inflight.size >= pool.size * 2) await Promise.race(inflight).catch(() => undefined);
      else if (inflight.size > 0) await yieldToEventLoop();
      drainSettled();
    }
    if (ready.length >= CHUNK) {
      yield ready;
      ready = [];
    }
  }
  if (coverage !== undefined) {
    const roots = coverage.finish(options.rootDir);
    stats.unscannableRoots = [...roots, ...lostSubtrees.filter((lost) => !roots.some((r) => r.path.equals(lost.path)))];
  }
  while (cache.has() || (await cache.fill())) {
    gone(cache.entry());
    cache.advance();
  }
  for (const key of [...batches.keys()]) flush(key);
  while (inflight.size > 0) await Promise.race(inflight).catch(() => undefined);
  drainSettled();
  if (ready.length > 0) yield ready;
}

/** What the checks of one configured directory ask of its files, worked out once per scan. */
interface RootPlan {
  readonly algorithms: readonly HashAlgorithm[];
  /** The inode attributes the hashing workers read with each file; absent when the checks ask for none. */
  readonly attributes?: InodeAttributeRequest;
  /** Files of roots with the same key (digests and attributes asked for) share hash batches. */
  readonly key: string;
  /** `requestedDigests` by [file or not][attributes readable or not]: the same few strings for every entry. */
  readonly digests: readonly (readonly [string, string])[];
}

function planOf(root: ScopeRoot): RootPlan {
  const algorithms = hashAlgorithmsOf(root.directory.checks);
  const request = inodeAttributeRequest(root.directory.checks);
  const wants = wantsInodeAttributes(request);
  const digests = (['symlink', 'file'] as const).map((type) => [requestedDigests(type, algorithms, false), requestedDigests(type, algorithms, wants)] as const);
  const key = `${algorithms.join(',')}|${INODE_ATTRIBUTE_FIELDS.filter((f) => request[f]).join(',')}`;
  return { algorithms, key, digests, ...(wants ? { attributes: request } : {}) };
}

function expectedFingerprint(entry: WalkEntry, plan: RootPlan, names: UserNames): string {
  const st = entry.stat;
  return fingerprintOf(st.format, st, st.mtimeNs, st.ctimeNs, entry.issue === undefined ? attributesReadable(entry) : undefined, plan, names);
}

/** The fingerprint of an entry's stat data (`readable`: see `attributesReadable`; `undefined` for an entry with an issue). */
function fingerprintOf(
  format: number,
  st: { readonly size: number; readonly inode: number; readonly dev: number; readonly uid: number; readonly gid: number },
  mtimeNs: bigint,
  ctimeNs: bigint,
  readable: boolean | undefined,
  plan: RootPlan,
  names: UserNames,
): string {
  const type = typeOfFormat(format);
  // requestedDigests(type, algorithms, attributes && readable), looked up (only files have digest letters).
  const digests = readable === undefined ? '!' : (plan.digests[type === 'file' ? 1 : 0] as readonly [string, string])[readable ? 1 : 0];
  return fingerprint({ type, size: st.size, mtimeNs, ctimeNs, inode: st.inode, dev: st.dev, uname: names.user(st.uid), gname: names.group(st.gid) }, digests);
}
