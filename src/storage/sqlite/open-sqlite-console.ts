import Database from 'better-sqlite3';
import { CustosError } from '../../core/custos-error.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteConsoleQueries } from './sqlite-console-queries.js';
import { SqliteConsoleRepository } from './sqlite-console-repository.js';

/** The console's storage over one SQLite store file: its repository, its read side, and one connection to close. */
export interface SqliteConsole {
  readonly repository: SqliteConsoleRepository;
  readonly queries: SqliteConsoleQueries;
  close(): void;
}

/**
 * Opens a connection of the console's own to a store file that `SqliteStore.open` has already brought up to date
 * (the console's tables come with its migrations): console reads never wait behind an ingest transaction (WAL).
 */
export function openSqliteConsole(path: string): SqliteConsole {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
    db.pragma('busy_timeout = 5000');
  } catch (error) {
    throw new CustosError('STORE_FAILED', `failed to open the console's connection to ${path}: ${(error as Error).message}`, { cause: error });
  }
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version < SQLITE_MIGRATIONS.length) {
    db.close();
    throw new CustosError(
      'STORE_FAILED',
      `the store ${path} is at schema ${version}, the console needs ${SQLITE_MIGRATIONS.length}: open it with the store first`,
    );
  }
  return { repository: new SqliteConsoleRepository(db), queries: new SqliteConsoleQueries(db), close: () => db.close() };
}
