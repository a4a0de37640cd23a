import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { HashAlgorithm } from '../core/file-state.js';
import type { InodeAttributeRequest } from '../core/inode-attributes.js';
import type { ExpectedStat, HashFileResult } from './hash-file.js';
import { unpackHashResults, type PackedHashResults } from './packed-hash-results.js';
import type { ThreadPriority } from './thread-priority.js';
import { siblingModule } from '../platform/package-root.js';
import { startWorker } from '../platform/start-worker.js';

/** A batch of files for one worker. Paths travel as latin1 strings: lossless for bytes, and cheap to clone. */
export interface HashBatch {
  readonly id: number;
  readonly paths: readonly string[];
  readonly algorithms: readonly HashAlgorithm[];
  readonly maxBytes: number;
  readonly retries: number;
  /** Per path, what the walk saw (see `HashFileOptions.expected`). */
  readonly expected?: PackedExpected;
  /** The inode attributes to read with each file (see `HashFileOptions.attributes`). */
  readonly attributes?: InodeAttributeRequest;
}

/** A worker's answer to one batch, in the batch's order (see packed-hash-results.ts). */
export interface HashBatchResult {
  readonly id: number;
  readonly results: PackedHashResults;
}

interface Pending {
  readonly batch: HashBatch;
  readonly resolve: (results: readonly HashFileResult[]) => void;
  readonly reject: (error: Error) => void;
}

interface Slot {
  readonly worker: Worker;
  busy: Pending | undefined;
}

/** What a hashing worker thread is started with. */
export interface HashWorkerData {
  /** The priorities the worker sets for itself; absent: those of the thread that started it. */
  readonly priority?: ThreadPriority;
}

/**
 * A pool of hashing worker threads, one per core by default. Each worker takes one batch at a time; batches wait
 * in a queue, so callers bound their own in-flight work. Workers start on first use, end on `release()` (the
 * next batch starts them again) and stop for good on `close()`.
 */
export class HashPool {
  readonly size: number;
  readonly #priority: () => ThreadPriority | undefined;
  #slots: Slot[] = [];
  #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;

  /** `priority`: what each worker sets for itself when it starts (read then: a configuration may change it). */
  constructor(size: number = availableParallelism(), options: { priority?: ThreadPriority | (() => ThreadPriority | undefined) } = {}) {
    this.size = Math.max(1, size);
    const { priority } = options;
    this.#priority = typeof priority === 'function' ? priority : () => priority;
  }

  /** Worker threads running now (started and not yet released). */
  get threads(): number {
    return this.#slots.length;
  }

  /**
   * Ends the workers that are idle, giving back what each holds (a V8 isolate, its heap and read buffer: about
   * 10 MB a thread); a worker busy with a batch (a realtime change) finishes it and stays until the next release.
   */
  async release(): Promise<void> {
    const idle = this.#slots.filter((s) => s.busy === undefined);
    this.#slots = this.#slots.filter((s) => s.busy !== undefined);
    await Promise.all(
      idle.map((s) => {
        s.worker.removeAllListeners('message');
        return s.worker.terminate();
      }),
    );
  }

  /**
   * Hashes files in one worker; resolves with one result per path, in order. `retries` is how often a file that
   * changes while read is read again; `attributes`, the inode attributes to read with each file's content.
   */
  hash(
    paths: readonly Buffer[],
    algorithms: readonly HashAlgorithm[],
    maxBytes: number,
    retries = 2,
    expected?: readonly ExpectedStat[],
    attributes?: InodeAttributeRequest,
  ): Promise<readonly HashFileResult[]> {
    if (this.#closed) return Promise.reject(new Error('hash pool is closed'));
    const batch: HashBatch = {
      id: this.#nextId++,
      paths: paths.map((p) => p.toString('latin1')),
      algorithms,
      maxBytes,
      retries,
      ...(expected === undefined ? {} : { expected: packExpected(expected) }),
      ...(attributes === undefined ? {} : { attributes }),
    };
    return new Promise((resolve, reject) => {
      this.#queue.push({ batch, resolve, reject });
      this.#dispatch();
    });
  }

  /** Stops every worker, even mid-file; pending and running batches are rejected. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const pending of this.#queue.splice(0)) pending.reject(new Error('hash pool closed'));
    // Batches being hashed fail too: closing mid-file (an interrupt) must not leave their callers waiting.
    for (const slot of this.#slots) {
      slot.busy?.reject(new Error('hash pool closed'));
      slot.busy = undefined;
    }
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
    this.#slots = [];
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const slot = this.#slots.find((s) => s.busy === undefined) ?? this.#spawn();
      if (slot === undefined) return;
      const pending = this.#queue.shift() as Pending;
      slot.busy = pending;
      // Referenced only while busy: an idle pool never keeps the process alive, a busy one always does.
      slot.worker.ref();
      slot.worker.postMessage(pending.batch);
    }
  }

  #spawn(): Slot | undefined {
    if (this.#slots.length >= this.size) return undefined;
    const priority = this.#priority();
    const workerData: HashWorkerData = priority === undefined ? {} : { priority };
    const worker = startWorker(siblingModule(import.meta.url, 'hash-worker'), { workerData });
    const slot: Slot = { worker, busy: undefined };
    worker.on('message', (reply: HashBatchResult) => {
      const pending = slot.busy;
      slot.busy = undefined;
      worker.unref();
      if (pending !== undefined) {
        try {
          pending.resolve(unpackHashResults(reply.results, pending.batch.algorithms));
        } catch (error) {
          pending.reject(error instanceof Error ? error : new Error(String(error)));
        }
      }
      this.#dispatch();
    });
    worker.on('error', (error) => {
      // A worker only dies on a bug (every file error is a result); fail its batch and replace it.
      const pending = slot.busy;
      slot.busy = undefined;
      this.#slots = this.#slots.filter((s) => s !== slot);
      pending?.reject(error);
      this.#dispatch();
    });
    worker.unref();
    this.#slots.push(slot);
    return slot;
  }
}

/** The walk's stat of each path of a batch: size, inode and device as numbers, mtime and ctime as nanoseconds. */
export interface PackedExpected {
  readonly numbers: Float64Array;
  readonly times: BigInt64Array;
}

function packExpected(stats: readonly ExpectedStat[]): PackedExpected {
  const numbers = new Float64Array(stats.length * 3);
  const times = new BigInt64Array(stats.length * 2);
  stats.forEach((st, i) => {
    numbers[i * 3] = st.size;
    numbers[i * 3 + 1] = st.inode;
    numbers[i * 3 + 2] = st.dev;
    times[i * 2] = st.mtimeNs;
    times[i * 2 + 1] = st.ctimeNs;
  });
  return { numbers, times };
}

/** The expected stat of path `i` of a batch, if the batch carries them. */
export function expectedAt(batch: HashBatch, i: number): ExpectedStat | undefined {
  const packed = batch.expected;
  if (packed === undefined || (i + 1) * 3 > packed.numbers.length) return undefined;
  return {
    size: packed.numbers[i * 3] as number,
    inode: packed.numbers[i * 3 + 1] as number,
    dev: packed.numbers[i * 3 + 2] as number,
    mtimeNs: packed.times[i * 2] as bigint,
    ctimeNs: packed.times[i * 2 + 1] as bigint,
  };
}
