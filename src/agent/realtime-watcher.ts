import { dirname } from 'node:path';

/** Where realtime events go: paths to look at again, and whole directories to rescan after a watcher failure. */
export interface RealtimeSink {
  onPaths(paths: readonly string[]): void;
  onRescan(dir: string, reason: string): void;
}

/** A running watcher. */
export interface RealtimeWatcher {
  /** How the directories are watched: `native` (inotify through @parcel/watcher) or `polling` (rescans). */
  readonly mode: 'native' | 'polling';
  close(): Promise<void>;
}

const DEBOUNCE_MS = 100;

/**
 * Watches the realtime directories with @parcel/watcher (inotify, one watch per directory) and hands changed
 * paths over in debounced groups. Its limits are handled, never ignored: it does not report files created inside
 * a brand-new directory, so a created directory is handed over whole (the caller scans its subtree); a path it
 * reports with bytes it could not decode is replaced by its directory; when the watcher reports an error (queue
 * overflow, watch limit), the directory is rescanned and the error logged. If the native watcher cannot start at
 * all, the directories are rescanned every `pollMs` instead, and that is logged too.
 */
export async function watchRealtime(dirs: readonly string[], sink: RealtimeSink, log: (message: string) => void, pollMs = 60_000): Promise<RealtimeWatcher> {
  if (dirs.length === 0) return { mode: 'native', close: async () => {} };
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    timer = undefined;
    const paths = [...pending];
    pending.clear();
    if (paths.length > 0) sink.onPaths(paths);
  };
  const add = (path: string): void => {
    // A name with bytes that are not UTF-8 reaches us with U+FFFD in it: look at its directory instead.
    pending.add(path.includes('\uFFFD') ? dirname(path) : path);
    timer ??= setTimeout(flush, DEBOUNCE_MS);
  };
  try {
    const watcher = await import('@parcel/watcher');
    const subscriptions = await Promise.all(
      dirs.map((dir) =>
        watcher.subscribe(dir, (error, events) => {
          if (error !== null) {
            log(`realtime watch of ${dir} failed (${error.message}); rescanning it`);
            sink.onRescan(dir, error.message);
            return;
          }
          for (const event of events) add(event.path);
        }),
      ),
    );
    return {
      mode: 'native',
      close: async () => {
        if (timer !== undefined) clearTimeout(timer);
        await Promise.all(subscriptions.map((s) => s.unsubscribe()));
      },
    };
  } catch (error) {
    log(`realtime watching is not available (${(error as Error).message}); rescanning ${dirs.join(', ')} every ${pollMs / 1000} s instead`);
    const poll = setInterval(() => {
      for (const dir of dirs) sink.onRescan(dir, 'polling');
    }, pollMs);
    return { mode: 'polling', close: async () => clearInterval(poll) };
  }
}
