import type { SkipConfig, SyscheckConfig } from '../core/config/custos-config.js';
import type { ScanScope } from '../core/scan-scope.js';
import { unpackWalkChunk, type PackedEntry, type PackedWalkChunk } from './walk-chunk.js';
import type { ThreadPriority } from './thread-priority.js';
import type { WalkItem, WalkOptions } from './walk-tree.js';
import { siblingModule } from '../platform/package-root.js';
import { startWorker } from '../platform/start-worker.js';
import type { Worker } from 'node:worker_threads';

/** The walk has nothing to hand out yet: await `until`, then go on iterating. */
export interface WalkWait {
  readonly kind: 'wait';
  readonly until: Promise<unknown>;
}

/** What the walk thread is started with: the sources its scope and mount table are compiled from. */
export interface WalkThreadData {
  readonly syscheck: SyscheckConfig;
  readonly limitTo: readonly string[];
  readonly mountText: string;
  readonly skip: SkipConfig;
  /** `--root`, as latin1. */
  readonly rootDir?: string;
  readonly chunkItems: number;
  /** The priorities the thread sets for itself; absent: those of the thread that started it. */
  readonly priority?: ThreadPriority;
}

/** What the walk thread posts. */
export type WalkThreadMessage =
  { readonly kind: 'chunk'; readonly chunk: PackedWalkChunk; readonly done: boolean } | { readonly kind: 'failed'; readonly message: string };

/** Chunks asked for ahead of the one being consumed. */
const AHEAD = 4;
const CHUNK_ITEMS = 1024;
/**
 * The walk thread's young generation: 2 MB semi-spaces (workers get 4 by default, see startWorker). It lists
 * directories natively and packs their entries into typed arrays, so little of what it allocates lives long. At a
 * million files: heap 14.5 -> 10.2 MB on a first scan (young 8 -> 4 MB, old unchanged), peak RSS of the unchanged
 * re-check 117-120 -> 112-114 MB, its CPU within 0.1 s. 1 MB semi-spaces left a heap of 11 MB (the old generation
 * grew) and cost the re-check 0.2 s of CPU and of wall time (4.2 -> 4.4-4.5 s CPU, 5 rounds each).
 */
const WALK_YOUNG_GENERATION_MB = 6;

/** How a walk thread is started. */
export interface WalkThreadOptions {
  readonly priority?: ThreadPriority;
  /**
   * Chunks the thread may walk before the scan takes any (at least `AHEAD`): a walk started while the scan is still
   * being set up (see `startScanWalk`) gets that far meanwhile. After that, it stays `AHEAD` chunks ahead.
   */
  readonly headStart?: number;
}

/**
 * `walkTree` running in a thread of its own, its items read here in the same order by {@link items}. The readdir
 * and lstat calls and the scope decisions of a walk cost about as much as everything else in a scan together; in a
 * thread of their own they overlap with hashing, comparing and recording instead of adding to them. The thread
 * starts walking at once; {@link stop} (or the end of `items`) ends it.
 */
export class WalkThread {
  readonly scope: ScanScope;
  readonly #worker: Worker;
  readonly #arrived: WalkThreadMessage[] = [];
  #wake: (() => void) | undefined;
  #crashed: Error | undefined;
  /** Chunks asked for and not yet arrived. */
  #asked: number;
  #stopped = false;

  constructor(scope: ScanScope, options: WalkOptions, threadOptions: WalkThreadOptions = {}) {
    this.scope = scope;
    const { priority } = threadOptions;
    const data: WalkThreadData = {
      syscheck: scope.source.syscheck,
      limitTo: scope.source.limitTo,
      mountText: options.mounts.source.text,
      skip: options.mounts.source.skip,
      ...(options.rootDir === undefined ? {} : { rootDir: options.rootDir.toString('latin1') }),
      chunkItems: CHUNK_ITEMS,
      ...(priority === undefined ? {} : { priority }),
    };
    this.#worker = startWorker(siblingModule(import.meta.url, 'walk-worker'), {
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: WALK_YOUNG_GENERATION_MB },
    });
    const notify = (): void => {
      this.#wake?.();
      this.#wake = undefined;
    };
    this.#worker.on('message', (message: WalkThreadMessage) => {
      this.#asked--;
      this.#arrived.push(message);
      notify();
    });
    this.#worker.on('error', (error) => {
      this.#crashed = error;
      notify();
    });
    this.#worker.on('exit', (code) => {
      this.#crashed ??= new Error(`the walk thread exited with code ${code}`);
      notify();
    });
    this.#asked = Math.max(AHEAD, threadOptions.headStart ?? 0);
    this.#worker.postMessage(this.#asked);
    // Until its items are read, the thread does not keep the process alive: a command that fails before its scan
    // starts still exits.
    this.#worker.unref();
  }

  /**
   * The walk's items, in key order; while the next chunk has not arrived, a `wait` item. Iterate once. Returning
   * early (or an error) stops the thread. Entries `skip` takes care of in place are left out (see `unpackWalkChunk`).
   */
  *items(skip?: (entry: PackedEntry) => boolean): Generator<WalkItem | WalkWait> {
    // Now the scan awaits the thread's messages: they must keep the process alive.
    this.#worker.ref();
    try {
      for (;;) {
        const message = this.#arrived.shift();
        if (message === undefined) {
          if (this.#crashed !== undefined) throw this.#crashed;
          yield { kind: 'wait', until: new Promise<void>((resolve) => (this.#wake = resolve)) };
          continue;
        }
        if (message.kind === 'failed') throw new Error(`the walk failed: ${message.message}`);
        // Keep AHEAD chunks coming: after a head start, only once the chunks walked ahead run low.
        if (!message.done && this.#arrived.length + this.#asked < AHEAD) {
          this.#asked++;
          this.#worker.postMessage(1);
        }
        yield* unpackWalkChunk(message.chunk, this.scope.roots, skip);
        if (message.done) return;
      }
    } finally {
      this.stop();
    }
  }

  /** Ends the thread (again: nothing). */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#worker.removeAllListeners();
    void this.#worker.terminate();
  }
}

/** Runs `walkTree` in its own thread and yields its items here, in the same order (see {@link WalkThread}). */
export function* threadedWalk(
  scope: ScanScope,
  options: WalkOptions,
  priority?: ThreadPriority,
  skip?: (entry: PackedEntry) => boolean,
): Generator<WalkItem | WalkWait> {
  yield* new WalkThread(scope, options, priority === undefined ? {} : { priority }).items(skip);
}
