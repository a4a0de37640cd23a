import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { CHECK_ALL, hashAlgorithmsOf } from '../core/check-set.js';
import type { FileState } from '../core/file-state.js';
import type { Observation } from '../core/observation.js';
import { isWithin, pathKey } from '../core/path-bytes.js';
import type { ScanScope } from '../core/scan-scope.js';
import type { HashFileResult } from './hash-file.js';
import type { HashPool } from './hash-pool.js';
import type { MountTable } from './mount-table.js';
import { buildFileState, canReuseHashes } from './build-file-state.js';
import type { ScanStats } from './scan-stats.js';
import type { UserNames } from './user-names.js';
import { walkTree, type WalkEntry } from './walk-tree.js';

/**
 * Everything one scan needs. `previous` yields the baseline under the scope's top-level roots in key order, in
 * chunks (so the merge only awaits once per chunk).
 */
export interface ScanTreeOptions {
  readonly scope: ScanScope;
  readonly mounts: MountTable;
  readonly rootDir?: Buffer;
  readonly pool: HashPool;
  readonly names: UserNames;
  readonly maxFileSizeBytes: number;
  /** Rehash every file even when its stat data says it is unchanged. */
  readonly rehash: boolean;
  readonly previous: AsyncIterable<readonly FileState[]>;
  readonly stats: ScanStats;
  readonly signal?: AbortSignal;
}

interface HashJob {
  readonly entry: WalkEntry;
  readonly previous: FileState | undefined;
}

const BATCH_FILES = 256;
const BATCH_BYTES = 32 << 20;
const CHUNK = 512;

/**
 * Scans the scope: walks it, merge-joins the walk with the baseline (both in key order) so deletions are found by
 * every scan, reuses cached digests for files whose dev, inode, size, mtime and ctime are unchanged, and hashes
 * the rest in the worker pool. Yields observations in chunks; per-file problems ride on the states.
 */
export async function* scanTree(options: ScanTreeOptions): AsyncGenerator<readonly Observation[]> {
  const { scope, pool, stats } = options;
  const previous = new ChunkCursor(options.previous[Symbol.asyncIterator]());
  const failures: unknown[] = [];
  const inflight = new Set<Promise<Observation[]>>();
  const settled: Observation[][] = [];
  const batches = new Map<string, { jobs: HashJob[]; bytes: number }>();
  let ready: Observation[] = [];
  let lastUnscanned: { path: Buffer; includesSelf: boolean } | undefined;
  let sinceYield = 0;

  const classifyGone = (state: FileState): void => {
    const inUnscanned =
      lastUnscanned !== undefined &&
      isWithin(state.path, lastUnscanned.path) &&
      (lastUnscanned.includesSelf || !state.path.equals(lastUnscanned.path));
    if (inUnscanned || !scope.isMonitored(state.path, state.type)) stats.kept++;
    else ready.push({ previous: state, checks: scope.governing(state.path)?.directory.checks ?? CHECK_ALL });
  };
  const flush = (key: string): void => {
    const batch = batches.get(key);
    if (batch === undefined || batch.jobs.length === 0) return;
    batches.delete(key);
    const [algorithmList, maxBytes] = key.split('/') as [string, string];
    const algorithms = algorithmList === '' ? [] : (algorithmList.split(',') as ('md5' | 'sha1' | 'sha256')[]);
    const paths = batch.jobs.map((j) => j.entry.readPath ?? hostPath(j.entry.path, options.rootDir));
    const task = pool.hash(paths, algorithms, Number(maxBytes)).then((results) => collect(batch.jobs, results, options));
    inflight.add(task);
    void task.then(
      (obs) => {
        inflight.delete(task);
        settled.push(obs);
      },
      (error: unknown) => {
        inflight.delete(task);
        failures.push(error);
      },
    );
  };
  const drainSettled = (): void => {
    if (failures.length > 0) throw failures[0];
    for (const obs of settled.splice(0)) for (const o of obs) ready.push(o);
  };

  for (const item of walkTree(scope, { mounts: options.mounts, ...(options.rootDir === undefined ? {} : { rootDir: options.rootDir }) })) {
    options.signal?.throwIfAborted();
    for (let head = await previous.head(); head !== undefined && Buffer.compare(head.key, item.key) < 0; head = await previous.head()) {
      classifyGone(head.state);
      previous.advance();
    }
    const head = await previous.head();
    const match = head !== undefined && head.key.equals(item.key) ? head.state : undefined;
    if (item.kind === 'unscanned') {
      stats.unscanned++;
      if (match !== undefined && item.includesSelf) {
        previous.advance();
        stats.kept++;
      }
      lastUnscanned = { path: item.path, includesSelf: item.includesSelf };
      continue;
    }
    if (match !== undefined) previous.advance();
    stats.entries++;
    const algorithms = hashAlgorithmsOf(item.root.directory.checks);
    if (item.stat.format !== 0o100000 || algorithms.length === 0) {
      ready.push({ ...(match === undefined ? {} : { previous: match }), current: buildFileState(item, options.names), checks: item.root.directory.checks });
    } else if (!options.rehash && match !== undefined && canReuseHashes(match, item.stat, algorithms)) {
      stats.reused++;
      ready.push({ previous: match, current: buildFileState(item, options.names, { hashes: match.hashes }), checks: item.root.directory.checks });
    } else {
      const key = `${algorithms.join(',')}/${options.maxFileSizeBytes}`;
      const batch = batches.get(key) ?? { jobs: [], bytes: 0 };
      batches.set(key, batch);
      batch.jobs.push({ entry: item, previous: match });
      batch.bytes += item.stat.size;
      if (batch.jobs.length >= BATCH_FILES || batch.bytes >= BATCH_BYTES) flush(key);
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
  for (let head = await previous.head(); head !== undefined; head = await previous.head()) {
    classifyGone(head.state);
    previous.advance();
  }
  for (const key of [...batches.keys()]) flush(key);
  while (inflight.size > 0) await Promise.race(inflight).catch(() => undefined);
  await yieldToEventLoop();
  drainSettled();
  if (ready.length > 0) yield ready;
}

function collect(jobs: readonly HashJob[], results: readonly HashFileResult[], options: ScanTreeOptions): Observation[] {
  const out: Observation[] = [];
  jobs.forEach((job, i) => {
    const result = results[i];
    if (result === undefined) return;
    const { entry, previous } = job;
    if (!result.ok && result.issue.code === 'vanished') {
      // Gone between the walk and the read: for the baseline it is a deletion like any other.
      options.stats.vanished++;
      if (previous !== undefined) out.push({ previous, checks: entry.root.directory.checks });
      return;
    }
    if (result.ok) {
      options.stats.hashed++;
      options.stats.bytesHashed += result.issue === undefined ? result.stat.size : 0;
      const extra = result.issue === undefined ? { stat: result.stat, hashes: result.hashes } : { stat: result.stat, hashes: result.hashes, issue: result.issue };
      out.push({ ...(previous === undefined ? {} : { previous }), current: buildFileState(entry, options.names, extra), checks: entry.root.directory.checks });
      return;
    }
    options.stats.issues++;
    // Keep the last trusted digests: the next readable scan compares against them, not against nothing.
    const hashes = previous?.type === 'file' ? previous.hashes : {};
    const extra = result.stat === undefined ? { hashes, issue: result.issue } : { stat: result.stat, hashes, issue: result.issue };
    out.push({ ...(previous === undefined ? {} : { previous }), current: buildFileState(entry, options.names, extra), checks: entry.root.directory.checks });
  });
  return out;
}

function hostPath(path: Buffer, rootDir: Buffer | undefined): Buffer {
  return rootDir === undefined ? path : Buffer.concat([rootDir, path]);
}

/** Reads a chunked async stream of baseline states one state at a time, awaiting only when a chunk runs out. */
class ChunkCursor {
  readonly #iterator: AsyncIterator<readonly FileState[]>;
  #chunk: readonly FileState[] = [];
  #index = 0;
  #key: Buffer | undefined;
  #done = false;

  constructor(iterator: AsyncIterator<readonly FileState[]>) {
    this.#iterator = iterator;
  }

  /** The current state and its path key, or `undefined` at the end. */
  async head(): Promise<{ readonly state: FileState; readonly key: Buffer } | undefined> {
    while (this.#index >= this.#chunk.length) {
      if (this.#done) return undefined;
      const r = await this.#iterator.next();
      if (r.done === true) {
        this.#done = true;
        return undefined;
      }
      this.#chunk = r.value;
      this.#index = 0;
    }
    const state = this.#chunk[this.#index] as FileState;
    this.#key ??= pathKey(state.path);
    return { state, key: this.#key };
  }

  advance(): void {
    this.#index++;
    this.#key = undefined;
  }
}
