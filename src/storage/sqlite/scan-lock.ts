import Database from 'better-sqlite3';
import { CustosError } from '../../core/custos-error.js';

/** A held scan lock; `release` lets the next scan in. */
export interface ScanLock {
  release(): void;
}

/**
 * Takes the one-scan-at-a-time lock of a database: an exclusive SQLite transaction on a small file beside it
 * (`DB.lock`). The kernel drops the lock when the holder dies, even by `kill -9`, so a crashed scan never leaves
 * a stale lock behind. Two checks at once would both see the same new files and alert them twice. Waits up to
 * `waitMs` for a running scan to finish, then refuses with a clear error.
 */
export function acquireScanLock(databasePath: string, waitMs: number): ScanLock {
  const path = `${databasePath}.lock`;
  const db = new Database(path, { timeout: waitMs });
  try {
    // Rollback journal: a WAL file would let a reader and the writer coexist; the lock must exclude.
    db.pragma('journal_mode = DELETE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new CustosError('STORE_FAILED', `another custos check or accept is running on ${databasePath} (lock ${path} held); not starting a second one`);
    }
    throw error;
  }
  return {
    release: () => {
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
