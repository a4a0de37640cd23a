import Database from 'better-sqlite3';
import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { ensureDirectory } from './ensure-directory.js';

/** How to open one kind of Custos SQLite database (see `openSqlite`). */
export interface SqliteDatabaseKind {
  /** What the database is, for error messages: "the known-hash database". */
  readonly name: string;
  /** Permissions of the file when it is created (SQLite gives its WAL and shared-memory files the same). */
  readonly fileMode: number;
  /** `PRAGMA` statements run on every open, before the schema is touched (`journal_mode = WAL`, ...). */
  readonly pragmas: readonly string[];
  /**
   * Checks (and claims) the database's kind before any migration runs, e.g. its `application_id`; throws to
   * refuse the file. Runs on every open.
   */
  readonly claim?: (db: Database.Database, path: string) => void;
  /**
   * The schema as an ordered list of migrations; `PRAGMA user_version` records how many have run. Never edit one
   * that has shipped: append. A database created before versioned migrations has user_version 0, so the first
   * migration must adopt it as it is (`CREATE ... IF NOT EXISTS` of exactly the schema it already has).
   */
  readonly migrations: readonly string[];
}

/** The database was written by a newer Custos, whose schema this one does not know. */
export class SchemaTooNewError extends Error {
  constructor(name: string, path: string, version: number, known: number) {
    super(`${name} ${path} was written by a newer Custos (schema ${version}, this one knows ${known}); upgrade Custos to open it`);
    this.name = 'SchemaTooNewError';
  }
}

/**
 * The one way Custos opens its SQLite files (baseline store, known-hash database, agent state): creates the file
 * with its permissions (and its directory), runs the pragmas, claims the kind, and brings the schema up to date,
 * each migration in its own transaction with the version it reaches. A failure closes the connection and throws.
 */
export function openSqlite(path: string, kind: SqliteDatabaseKind): Database.Database {
  ensureDirectory(dirname(path));
  closeSync(openSync(path, 'a', kind.fileMode));
  const db = new Database(path);
  try {
    for (const pragma of kind.pragmas) db.pragma(pragma);
    kind.claim?.(db, path);
    migrate(db, path, kind);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function migrate(db: Database.Database, path: string, kind: SqliteDatabaseKind): void {
  const version = Number(db.pragma('user_version', { simple: true }));
  if (version > kind.migrations.length) throw new SchemaTooNewError(kind.name, path, version, kind.migrations.length);
  for (let v = version; v < kind.migrations.length; v++) {
    db.transaction(() => {
      db.exec(kind.migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
