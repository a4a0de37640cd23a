import { dirname } from 'node:path';
import type * as ParcelWatcher from '@parcel/watcher';

/** Where realtime events go: paths to look at again, and whole directories to rescan. */
export interface RealtimeSink {
  onPaths(paths: readonly string[]): void;
  onRescan(dir: string, reason: string): void;
}

/** A running watcher. */
export interface RealtimeWatcher {
  /** Directories watched natively (inotify through @parcel/watcher). */
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
 * Watches the realtime directories with @parcel/watcher (inotify, one watch per directory) and hands changed
 * paths over in debounced groups. Its limits are handled, never ignored:
 * - it does not report files created inside a brand-new directory, so a created directory is handed over whole
 *   (the caller scans its subtree);
 * - a path it reports with bytes it could not decode is replaced by its directory;
 * - when it reports an error, the directory is rescanned and the error logged;
 * - a directory it cannot watch (the inotify watch limit, a permission) is logged and polled instead;
 * - `ignore` (per directory: paths below it) keeps whole subtrees out of the watch, so `/` can be watched
 *   without `/proc` or `/usr`;
 * - it drops the kernel's queue-overflow event without telling anyone (InotifyBackend.cc skips IN_Q_OVERFLOW),
 *   so nothing can report an overflow: every watched directory is rescanned every `reconcileMs` as well, which
 *   bounds how long a change lost that way can go unseen. The rescan only stats unchanged files.
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
  const add = (reported: string): void => {
    // Watching `/`, the watcher names what happens directly in it `//name` (it joins the root and a name with
    // another slash): one path has one spelling here, or the scope would not know it.
    const path = reported.replace(/^\/{2,}/, '/');
    // A name with bytes that are not UTF-8 reaches us with U+FFFD in it: look at its directory instead.
    pending.add(path.includes('\uFFFD') ? dirname(path) : path);
    timer ??= setTimeout(flush, DEBOUNCE_MS);
  };

  const native: string[] = [];
  const polled: string[] = [];
  const subscriptions: { unsubscribe(): Promise<void> }[] = [];
  let watcher: typeof ParcelWatcher | undefined;
  try {
    watcher = await import('@parcel/watcher');
  } catch (error) {
    log(`realtime watching is not available (${(error as Error).message}); rescanning ${dirs.join(', ')} every ${pollMs / 1000} s instead`);
  }
  for (const dir of dirs) {
    if (watcher === undefined) {
      polled.push(dir);
      continue;
    }
    try {
      subscriptions.push(
        await watcher.subscribe(
          dir,
          (error, events) => {
            if (error !== null) {
              log(`realtime watch of ${dir} failed (${error.message}); rescanning it`);
              sink.onRescan(dir, error.message);
              return;
            }
            for (const event of events) add(event.path);
          },
          // Ignored subtrees get no inotify watches at all (they are skipped when the watch tree is built).
          { ignore: watcherIgnores(dir, options.ignore?.(dir) ?? []) },
        ),
      );
      native.push(dir);
    } catch (error) {
      log(`cannot watch ${dir} in realtime (${(error as Error).message}); rescanning it every ${pollMs / 1000} s instead`);
      polled.push(dir);
    }
  }
  const intervals = [
    ...(polled.length > 0 ? [setInterval(() => polled.forEach((dir) => sink.onRescan(dir, 'polling')), pollMs)] : []),
    ...(native.length > 0 ? [setInterval(() => native.forEach((dir) => sink.onRescan(dir, 'reconcile')), reconcileMs)] : []),
  ];
  return {
    native,
    polled,
    close: async () => {
      if (timer !== undefined) clearTimeout(timer);
      for (const interval of intervals) clearInterval(interval);
      await Promise.all(subscriptions.map((s) => s.unsubscribe()));
    },
  };
}

/**
 * The ignore list in the form @parcel/watcher matches. It joins a directory and a name with `/`, so below a watch
 * of `/` every path it builds starts with `//` (`//proc`, `//proc/1`), and an ignored path (`/proc`) never
 * matches it: the watch would descend into `/proc` and fail. Its patterns, though, are matched against the path
 * relative to the watched directory (`proc/1`), so below `/` each ignored path becomes an anchored pattern.
 */
export function watcherIgnores(dir: string, ignore: readonly string[]): (string | RegExp)[] {
  if (!/^\/+$/.test(dir)) return [...ignore];
  return ignore.map((path) => new RegExp(`^${escapeRegExp(path.replace(/^\/+/, ''))}(?:/|$)`));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

