import type { SkipConfig, SyscheckConfig } from '../core/config/custos-config.js';
import type { ScanScope } from '../core/scan-scope.js';
import { unpackWalkChunk, type PackedWalkChunk } from './walk-chunk.js';
import type { ThreadPriority } from './thread-priority.js';
import type { WalkItem, WalkOptions } from './walk-tree.js';
import { siblingModule } from '../platform/package-root.js';
import { startWorker } from '../platform/start-worker.js';

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
 * Runs `walkTree` in its own thread and yields its items here, in the same order. The readdir and lstat calls and
 * the scope decisions of a walk cost about as much as everything else in a scan together; in a thread of their own
 * they overlap with hashing, comparing and recording instead of adding to them. While the next chunk has not
 * arrived the generator yields a `wait` item. Returning early (or an error) stops the thread.
 */
export function* threadedWalk(scope: ScanScope, options: WalkOptions, priority?: ThreadPriority): Generator<WalkItem | WalkWait> {
  const data: WalkThreadData = {
    syscheck: scope.source.syscheck,
    limitTo: scope.source.limitTo,
    mountText: options.mounts.source.text,
    skip: options.mounts.source.skip,
    ...(options.rootDir === undefined ? {} : { rootDir: options.rootDir.toString('latin1') }),
    chunkItems: CHUNK_ITEMS,
    ...(priority === undefined ? {} : { priority }),
  };
  const worker = startWorker(siblingModule(import.meta.url, 'walk-worker'), { workerData: data });
  const arrived: WalkThreadMessage[] = [];
  let wake: (() => void) | undefined;
  let crashed: Error | undefined;
  const notify = (): void => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (message: WalkThreadMessage) => {
    arrived.push(message);
    notify();
  });
  worker.on('error', (error) => {
    crashed = error;
    notify();
  });
  worker.on('exit', (code) => {
    crashed ??= new Error(`the walk thread exited with code ${code}`);
    notify();
  });
  try {
    worker.postMessage(AHEAD);
    for (;;) {
      const message = arrived.shift();
      if (message === undefined) {
        if (crashed !== undefined) throw crashed;
        yield { kind: 'wait', until: new Promise<void>((resolve) => (wake = resolve)) };
        continue;
      }
      if (message.kind === 'failed') throw new Error(`the walk failed: ${message.message}`);
      if (!message.done) worker.postMessage(1);
      yield* unpackWalkChunk(message.chunk, scope.roots);
      if (message.done) return;
    }
  } finally {
    worker.removeAllListeners();
    void worker.terminate();
  }
}
