import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { AgentState } from './agent-state.js';
import type { HashPool } from './hash-pool.js';
import { nativeFsAttrs } from './native-fs-attrs.js';

let collect: (() => void) | undefined;

/**
 * A full garbage collection now. The service runs without `--expose-gc` (systemd starts the launcher as is), so
 * the flag is set at run time and the `gc` function taken from a fresh context, which gets it.
 */
function collectGarbage(): void {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}

/**
 * How many malloc arenas the agent's threads share (the systemd unit also sets `MALLOC_ARENA_MAX=2`, which covers
 * the threads Node starts before any of our code runs). glibc's default is one arena per thread that allocates,
 * up to 8 per core, and what an arena keeps after `malloc_trim` stays resident while the agent idles.
 */
const AGENT_MALLOC_ARENAS = 2;

/**
 * Caps the malloc arenas of the threads started from now on (scan threads, hash workers): called once when the
 * agent starts, so an agent started without its unit's environment is as small when idle. Without the native
 * module (or an older build of it) nothing changes: larger while idle, not wrong.
 */
export function limitMallocArenas(): void {
  try {
    nativeFsAttrs().limitArenas?.(AGENT_MALLOC_ARENAS);
  } catch {
    // As in releaseHeap: the addon is optional for memory housekeeping.
  }
}

/**
 * After a scheduled scan, gives back what it needed and an idle agent does not: the hashing threads (each a V8
 * isolate with its heap and read buffer), SQLite's page cache, the garbage the scan left in the heap (V8 grows it
 * in large steps and keeps it until the next full collection, which an idle process may never reach), and the
 * freed memory glibc keeps mapped in the arenas of the threads that did the work (malloc_trim). What a realtime
 * change needs starts again on demand. The delivery of what the scan found comes after it and allocates again:
 * `releaseAfterDelivery` gives that back.
 */
export async function releaseScanMemory(deps: {
  readonly pool: HashPool;
  readonly state: AgentState;
}): Promise<{ rssBeforeBytes: number; rssAfterBytes: number }> {
  const rssBeforeBytes = process.memoryUsage.rss();
  await deps.pool.release();
  deps.state.shrinkMemory();
  releaseHeap();
  return { rssBeforeBytes, rssAfterBytes: process.memoryUsage.rss() };
}

/**
 * V8's heap and malloc's arenas given back: a collection under critical memory pressure (everything collectable,
 * compacted, empty pages and the young generation's spare space returned; a plain `gc()` keeps those for the next
 * allocations: on an idle agent after a /usr scan and its delivery, it took the heap from 36 MB to 18 MB), then
 * malloc_trim; then the clean pages of code and read-only data the work ran (`releaseFilePages`: the node binary's
 * hashing, TLS and SQLite code an idle agent does not run; 13 MB above a bare Node's after a scan), which stay in the
 * page cache and come back by a minor fault when next run. Without the native module (or an older build of it): a
 * full collection only.
 */
export function releaseHeap(): void {
  let native;
  try {
    native = nativeFsAttrs();
  } catch {
    // Without the native module the heap is collected but not compacted or trimmed: larger while idle, not wrong.
  }
  if (typeof native?.reduceHeap === 'function') native.reduceHeap();
  else collectGarbage();
  native?.trimHeap();
  native?.releaseFilePages?.();
  heapAfterRelease = process.memoryUsage().heapTotal;
}

/**
 * How much the heap may have grown since it was last given back before an idle agent gives it back again. V8
 * collects only when it allocates: garbage made after the last release (a package report's rows and its JSON, a
 * batch with file content) stays resident in an idle process for good. Seen: 25 MB of a report's garbage kept by
 * an idle agent in one start of three.
 */
const IDLE_HEAP_GROWTH_BYTES = 8 * 2 ** 20;
/** The heap's size right after the last release. */
let heapAfterRelease = 0;

/**
 * Gives the heap back if it grew by IDLE_HEAP_GROWTH_BYTES since the last release; for an agent with no scan running
 * and nothing to send (its keep-alive calls this). True if it did.
 */
export function releaseHeapIfGrown(): boolean {
  if (process.memoryUsage().heapTotal - heapAfterRelease < IDLE_HEAP_GROWTH_BYTES) return false;
  releaseHeap();
  return true;
}

/**
 * Realtime work since the agent last gave its memory back. A realtime change starts a hashing thread again and runs
 * the code of a scan and a delivery; an agent that then stays quiet gives that back too (`quietFor`), as it does
 * after a scheduled scan. Measured on a /usr copy: two changed files took the idle agent from 50 to 68 MB, and it
 * was back at 49 MB after the release; the first change after a release reaches the manager 60-70 ms later.
 */
export class RealtimeActivity {
  #since = false;
  #lastAt = 0;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A realtime scan ran (call when it ends). */
  noted(): void {
    this.#since = true;
    this.#lastAt = this.#now();
  }

  /** The agent gave its memory back. */
  released(): void {
    this.#since = false;
  }

  /** True when realtime work ran since the last release and none has for `quietMs`. */
  quietFor(quietMs: number): boolean {
    return this.#since && this.#now() - this.#lastAt >= quietMs;
  }
}

/** Deliveries after which the heap is given back when the outbox drains: a scan's worth, not each realtime change. */
const RELEASE_AFTER_BATCHES = 10;

/**
 * The outbox drained after `batches` deliveries: after a large delivery (a scan's), give its memory back, SQLite's
 * page cache first (reading and deleting the batches filled it again after the scan's release: better-sqlite3
 * builds SQLite with a 16 MB cache per connection; at 1M files the idle agent regained ~17 MB this way), so that
 * malloc_trim then returns what it freed.
 */
export function releaseAfterDelivery(batches: number, state: Pick<AgentState, 'shrinkMemory'>): void {
  if (batches < RELEASE_AFTER_BATCHES) return;
  state.shrinkMemory();
  releaseHeap();
}
