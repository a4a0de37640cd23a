import type Database from 'better-sqlite3';
import { CustosError } from '../../core/custos-error.js';
import { openSqlite, SchemaTooNewError } from '../../platform/open-sqlite.js';
import { BASELINE_APPLICATION_ID, claimApplicationId } from './application-id.js';
import { isCorruptionError } from './corruption-error.js';
import { corruptDatabaseError } from './database-integrity.js';
import { SQLITE_MIGRATIONS } from './migrations.js';

/** How the baseline database's write connection is tuned (see `SqliteStore.open`). */
export interface BaselineDatabaseOptions {
  readonly cacheMb?: number;
  readonly backgroundCheckpoints?: boolean;
}

/**
 * Opens (creating if needed, owner-only) the baseline database at `path` in WAL mode, checks it is one, and
 * brings its schema up to date. Any failure is a `STORE_FAILED` error naming the file (or the `USAGE` error of a
 * database of another kind).
 */
export function openBaselineDatabase(path: string, options: BaselineDatabaseOptions): Database.Database {
  try {
    const db = openSqlite(path, {
      name: 'the store',
      // The baseline describes every monitored file (hashes of /etc/shadow included): owner-only, like the WAL
      // and shared-memory files SQLite creates beside it with the same permissions.
      fileMode: 0o600,
      pragmas: [
        'journal_mode = WAL',
        'synchronous = NORMAL',
        'busy_timeout = 5000',
        `cache_size = -${Math.round((options.cacheMb ?? 64) * 1024)}`,
        'temp_store = MEMORY',
      ],
      claim: (opened) => claimApplicationId(opened, path, BASELINE_APPLICATION_ID),
      migrations: SQLITE_MIGRATIONS,
    });
    // With a checkpoint thread, SQLite's own checkpoint is only the backstop (64 MB of WAL instead of 4 MB).
    if (options.backgroundCheckpoints === true) db.pragma('wal_autocheckpoint = 16384');
    return db;
  } catch (error) {
    if (error instanceof CustosError) throw error;
    if (isCorruptionError(error)) throw corruptDatabaseError(path, (error as Error).message, error);
    if (error instanceof SchemaTooNewError) throw new CustosError('STORE_FAILED', error.message, { cause: error });
    throw new CustosError('STORE_FAILED', `failed to open the SQLite store ${path}: ${(error as Error).message}`, { cause: error });
  }
}
