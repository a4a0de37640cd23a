import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { CustosError } from '../../core/custos-error.js';
import { ensureDirectory } from '../../platform/ensure-directory.js';
import { BASELINE_APPLICATION_ID, claimApplicationId } from './application-id.js';
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
    ensureDirectory(dirname(path));
    // The baseline describes every monitored file (hashes of /etc/shadow included): owner-only, like the WAL
    // and shared-memory files SQLite creates beside it with the same permissions.
    closeSync(openSync(path, 'a', 0o600));
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      db.pragma(`cache_size = -${Math.round((options.cacheMb ?? 64) * 1024)}`);
      db.pragma('temp_store = MEMORY');
      claimApplicationId(db, path, BASELINE_APPLICATION_ID);
      migrate(db);
      // With a checkpoint thread, SQLite's own checkpoint is only the backstop (64 MB of WAL instead of 4 MB).
      if (options.backgroundCheckpoints === true) db.pragma('wal_autocheckpoint = 16384');
    } catch (error) {
      db.close();
      throw error;
    }
    return db;
  } catch (error) {
    if (error instanceof CustosError) throw error;
    throw new CustosError('STORE_FAILED', `failed to open the SQLite store ${path}: ${(error as Error).message}`, { cause: error });
  }
}

function migrate(db: Database.Database): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > SQLITE_MIGRATIONS.length) {
    throw new CustosError('STORE_FAILED', `the store was written by a newer Custos (schema ${version}); upgrade Custos to open it`);
  }
  for (let v = version; v < SQLITE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(SQLITE_MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
