import type { CustosConfig } from '../core/config/custos-config.js';
import { CustosError } from '../core/custos-error.js';
import { projectedBaselineDigest as baselineDigest } from '../manager/projected-digest.js';
import { readHistoryKey } from '../storage/history-key.js';
import { lostAgainstMarker, markerPath, readHistoryMarker, writeHistoryMarker, type HistoryMarker } from '../storage/history-marker.js';
import { assertDatabaseIntact } from '../storage/sqlite/database-integrity.js';
import { acquireScanLock } from '../storage/sqlite/scan-lock.js';
import type { Store } from '../storage/store.js';
import { openStore } from './open-store.js';

/** How long a check waits for another one on the same database to finish before it refuses. */
const SCAN_LOCK_WAIT_MS = 2000;

/** The store of a standalone scan, held for it alone; `close` records where its history ends and lets the next scan in. */
export interface GuardedStore {
  readonly store: Store;
  /**
   * Writes the marker with the digest of the whole baseline (with `alerts.history_key`, `alerts.syslog` or
   * `alerts.webhook`) and the key's signature (with the key), and returns it: the head a check sends off the
   * host. `undefined` for a store that keeps no marker.
   */
  seal(): Promise<HistoryMarker | undefined>;
  close(): Promise<void>;
}

/**
 * Opens the standalone store for one `check` or `accept`: one scan at a time per database (a lock), and a
 * database that lost its past (emptied, replaced, a `-wal` removed after a crash) is refused rather than taken
 * for a first run: the marker beside it says what the last scan left. Every commit moves the marker on, so
 * records lost after a crash are noticed too.
 */
export async function openGuardedStore(config: CustosConfig, agentId: string): Promise<GuardedStore> {
  // Read before anything is opened: a key others can read is a configuration error, not a half-done check.
  const key = config.alerts.historyKeyFile === undefined ? undefined : readHistoryKey(config.alerts.historyKeyFile);
  const store = await openStore(config.storage);
  if (config.storage.engine !== 'sqlite') return { store, seal: async () => undefined, close: () => store.close() };
  const databasePath = config.storage.path;
  let lock;
  try {
    lock = acquireScanLock(databasePath, SCAN_LOCK_WAIT_MS);
    // Under the lock (no other check is writing): a file damaged in place is refused before it is read as a baseline.
    assertDatabaseIntact(databasePath);
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
  // Sealed with the baseline's digest after the last commit: the closing marker then keeps that digest.
  let sealedSinceCommit = false;
  const mark = async (): Promise<void> => {
    sealedSinceCommit = false;
    await writeHistoryMarker(databasePath, store, agentId, new Date().toISOString(), key === undefined ? {} : { key });
  };
  const marked = markingCommits(store, mark);
  return {
    store: marked,
    seal: async () => {
      // A full read of the baseline (about as long as the merge-join's own read of it): only where someone can
      // check the digest, with a history key or a copy sent off the host.
      const wanted = key !== undefined || config.alerts.syslog !== undefined || config.alerts.webhook !== undefined;
      const digest = wanted ? (await baselineDigest(store, agentId)).digest : undefined;
      const marker = await writeHistoryMarker(databasePath, store, agentId, new Date().toISOString(), {
        ...(digest === undefined ? {} : { baselineDigest: digest }),
        ...(key === undefined ? {} : { key }),
      });
      sealedSinceCommit = true;
      return marker;
    },
    close: async () => {
      try {
        if (!sealedSinceCommit) await mark();
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
