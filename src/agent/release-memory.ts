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
 * After a scheduled scan, gives back what it needed and an idle agent does not: the hashing threads (each a V8
 * isolate with its heap and read buffer), SQLite's page cache, the garbage the scan left in the heap (V8 grows it
 * in large steps and keeps it until the next full collection, which an idle process may never reach), and the
 * freed memory glibc keeps mapped in the arenas of the threads that did the work (malloc_trim). What a realtime
 * change needs starts again on demand.
 */
export async function releaseScanMemory(deps: { readonly pool: HashPool; readonly state: AgentState }): Promise<{ rssBeforeBytes: number; rssAfterBytes: number }> {
  const rssBeforeBytes = process.memoryUsage.rss();
  await deps.pool.release();
  deps.state.shrinkMemory();
  collectGarbage();
  try {
    nativeFsAttrs().trimHeap();
  } catch {
    // Without the native module the heap is not trimmed: the agent is larger while idle, not wrong.
  }
  return { rssBeforeBytes, rssAfterBytes: process.memoryUsage.rss() };
}
