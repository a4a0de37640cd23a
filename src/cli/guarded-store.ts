import type { CustosConfig } from '../core/config/custos-config.js';
import { CustosError } from '../core/custos-error.js';
import { lostAgainstMarker, markerPath, readHistoryMarker, writeHistoryMarker } from '../storage/history-marker.js';
import { acquireScanLock } from '../storage/sqlite/scan-lock.js';
import type { Store } from '../storage/store.js';
import { openStore } from './open-store.js';

/** How long a check waits for another one on the same database to finish before it refuses. */
const SCAN_LOCK_WAIT_MS = 2000;

/** The store of a standalone scan, held for it alone; `close` records where its history ends and lets the next scan in. */
export interface GuardedStore {
  readonly store: Store;
  close(): Promise<void>;
}

/**
 * Opens the standalone store for one `check` or `accept`: one scan at a time per database (a lock), and a
 * database that lost its past (emptied, replaced, a `-wal` removed after a crash) is refused rather than taken
 * for a first run: the marker beside it says what the last scan left. Every commit moves the marker on, so
 * records lost after a crash are noticed too.
 */
export async function openGuardedStore(config: CustosConfig, agentId: string): Promise<GuardedStore> {
  const store = await openStore(config.storage);
  if (config.storage.engine !== 'sqlite') return { store, close: () => store.close() };
  const databasePath = config.storage.path;
  let lock;
  try {
    lock = acquireScanLock(databasePath, SCAN_LOCK_WAIT_MS);
    const marker = readHistoryMarker(databasePath);
    const lost = marker === undefined || marker.agentId !== agentId ? undefined : await lostAgainstMarker(store, marker);
    if (lost !== undefined) {
      throw new CustosError(
        'STORE_CORRUPT',
        `the database ${databasePath} has lost its past: ${lost}. Not building a new baseline over it: restore the database from a backup; to start anew on purpose, remove ${markerPath(databasePath)}`,
      );
    }
  } catch (error) {
    lock?.release();
    await store.close();
    throw error;
  }
  const mark = (): Promise<void> => writeHistoryMarker(databasePath, store, agentId, new Date().toISOString());
  const marked = markingCommits(store, mark);
  return {
    store: marked,
    close: async () => {
      try {
        await mark();
      } finally {
        await store.close();
        lock.release();
      }
    },
  };
}

/** The store, with the marker moved on after each commit (a crash then loses at most what the marker lags by: nothing committed). */
function markingCommits(store: Store, mark: () => Promise<void>): Store {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'commit') {
        return async (...args: Parameters<Store['commit']>): Promise<void> => {
          await target.commit(...args);
          await mark();
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
