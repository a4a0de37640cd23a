import { isUtf8 } from 'node:buffer';
import { dirname } from 'node:path';
import { InotifyTree } from './inotify-tree.js';

/** Where realtime events go: paths to look at again, and whole directories to rescan. */
export interface RealtimeSink {
  onPaths(paths: readonly string[]): void;
  onRescan(dir: string, reason: string): void;
}

/** A running watcher. */
export interface RealtimeWatcher {
  /** Directories watched natively (inotify, one watch per directory below them). */
  readonly native: readonly string[];
  /** Directories that could not be watched and are rescanned every `pollMs` instead. */
  readonly polled: readonly string[];
  close(): Promise<void>;
}

/** Timings; the defaults suit production, tests shorten them. */
export interface RealtimeTimings {
  /** How often a directory that cannot be watched is rescanned. */
  readonly pollMs: number;
  /** How often a natively watched directory is rescanned anyway, to find what the watcher missed. */
  readonly reconcileMs: number;
}

const DEBOUNCE_MS = 100;
const DEFAULT_TIMINGS: RealtimeTimings = { pollMs: 60_000, reconcileMs: 600_000 };

/**
 * Watches the realtime directories with inotify (the native addon's lean watcher: one instance read on the event
 * loop, one watch per directory, no thread and nothing per file) and hands changed paths over in debounced groups.
 * Its limits are handled, never ignored:
 * - a created (or moved-in) directory is watched with its subtree first and then handed over whole (the caller
 *   scans its subtree), so files made in it before its watch existed are found too;
 * - a path with bytes that are not UTF-8 is replaced by its nearest directory whose path is UTF-8;
 * - the kernel's queue overflow (IN_Q_OVERFLOW: events were lost) and a failed read rescan every watched
 *   directory, and are logged;
 * - a directory it cannot watch (the inotify watch limit, a permission) is logged and polled instead; a root
 *   that reaches the watch limit gives back the watches it took and is polled whole;
 * - `ignore` (per directory: paths below it) keeps whole subtrees out of the watch, so `/` can be watched
 *   without `/proc` or `/usr`;
 * - symlinks below a root are entries, never followed;
 * - every watched directory is rescanned every `reconcileMs` as well, which bounds how long a change lost any
 *   other way can go unseen. The rescan only stats unchanged files.
 */
export async function watchRealtime(
  dirs: readonly string[],
  sink: RealtimeSink,
  log: (message: string) => void,
  options: Partial<RealtimeTimings> & { readonly ignore?: (dir: string) => readonly string[] } = {},
): Promise<RealtimeWatcher> {
  const { pollMs, reconcileMs } = { ...DEFAULT_TIMINGS, ...options };
  if (dirs.length === 0) return { native: [], polled: [], close: async () => {} };
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    const paths = [...pending];
    pending.clear();
    if (paths.length > 0) sink.onPaths(paths);
  };
  const add = (path: string): void => {
    pending.add(path);
    timer ??= setTimeout(flush, DEBOUNCE_MS);
  };

  const native: string[] = [];
  const polled: string[] = [];
  const intervals: NodeJS.Timeout[] = [];
  const poll = (dir: string): void => {
    polled.push(dir);
    intervals.push(setInterval(() => sink.onRescan(dir, 'polling'), pollMs));
  };
  // Ignored paths as byte strings (latin1), the form the tree holds paths in.
  const ignored = new Set(dirs.flatMap((dir) => options.ignore?.(dir) ?? []).map((path) => Buffer.from(path).toString('latin1')));
  const rescanAll = (reason: string): void => native.forEach((dir) => sink.onRescan(dir, reason));
  let tree: InotifyTree | undefined;
  try {
    tree = InotifyTree.open(
      {
        changed: (path) => add(readablePath(path)),
        overflow: () => {
          log(`the kernel's realtime event queue overflowed (fs.inotify.max_queued_events): changes were lost; rescanning ${native.join(', ')}`);
          rescanAll('overflow');
        },
        unwatchable: (path, code) => {
          const dir = readablePath(path);
          log(
            `cannot watch ${dir} in realtime (${code}${code === 'ENOSPC' ? ': the inotify watch limit, fs.inotify.max_user_watches, is reached' : ''}); rescanning it every ${pollMs / 1000} s instead`,
          );
          poll(dir);
          add(dir);
        },
        failed: (code) => {
          log(`reading realtime events failed (${code}); rescanning ${native.join(', ')}`);
          rescanAll(code);
        },
      },
      (path) => ignored.has(path),
    );
  } catch (error) {
    log(`realtime watching is not available (${(error as Error).message}); rescanning ${dirs.join(', ')} every ${pollMs / 1000} s instead`);
  }
  for (const dir of dirs) {
    const failure = tree === undefined ? 'unavailable' : await tree.watch(Buffer.from(dir).toString('latin1'));
    if (failure === undefined) {
      native.push(dir);
      continue;
    }
    if (tree !== undefined) {
      log(
        `cannot watch ${dir} in realtime (${failure}${failure === 'ENOSPC' ? ': the inotify watch limit, fs.inotify.max_user_watches, is reached' : ''}); rescanning it every ${pollMs / 1000} s instead`,
      );
    }
    poll(dir);
  }
  if (native.length > 0) intervals.push(setInterval(() => rescanAll('reconcile'), reconcileMs));
  if (native.length === 0) tree?.close();
  return {
    native,
    polled,
    close: async () => {
      if (timer !== undefined) clearTimeout(timer);
      for (const interval of intervals) clearInterval(interval);
      tree?.close();
    },
  };
}

/** A path as the scan takes it: the bytes decoded, or, when they are not UTF-8, its nearest directory that is. */
function readablePath(latin1: string): string {
  let path = latin1;
  while (!isUtf8(Buffer.from(path, 'latin1'))) path = dirname(path);
  return Buffer.from(path, 'latin1').toString('utf8');
}
