import type { ConsoleQueries } from '../../storage/console-queries.js';
import type { ConsoleRepository } from '../../storage/console-repository.js';
import { PostgresConsoleQueries } from '../../storage/postgres/console-queries.js';
import { PostgresConsoleRepository } from '../../storage/postgres/console-repository.js';
import { PostgresStore } from '../../storage/postgres/postgres-store.js';
import { openSqliteConsole } from '../../storage/sqlite/open-sqlite-console.js';
import { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { Store } from '../../storage/store.js';

/** The console's storage: its own state and its read side, and how to let go of them. */
export interface ConsoleStorage {
  readonly repository: ConsoleRepository;
  readonly queries: ConsoleQueries;
  close(): void;
}

/**
 * The console's storage in the manager's own store: on SQLite a connection of its own to the same file (console
 * reads never wait behind ingest), on PostgreSQL the store's pool. Undefined for an engine without one.
 */
export function consoleStorageOf(store: Store): ConsoleStorage | undefined {
  if (store instanceof SqliteStore) return openSqliteConsole(store.path);
  if (store instanceof PostgresStore) {
    // The pool is the store's: closing the console leaves it to the store.
    return { repository: new PostgresConsoleRepository(store.database), queries: new PostgresConsoleQueries(store.database), close: () => undefined };
  }
  return undefined;
}
