import type Database from 'better-sqlite3';

/** How a statement returns rows: objects keyed by column, arrays of values, or the first column's value alone. */
export type RowMode = 'object' | 'raw' | 'pluck';

/**
 * The one write connection a SQLite store's repositories share, and the one way they prepare statements and open
 * transactions. A statement is prepared once per SQL text and row mode and kept: better-sqlite3's row modes are
 * settings of the statement itself, so keying by both means no caller ever sees another caller's mode.
 */
export class SqliteConnection {
  readonly db: Database.Database;
  readonly #prepared = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.db = db;
  }

  /**
   * The prepared statement for `sql` in a row mode; `safeIntegers` returns every INTEGER as a bigint (nanosecond
   * times keep all their digits).
   */
  statement(sql: string, mode: RowMode = 'object', safeIntegers = false): Database.Statement {
    const key = `${mode}${safeIntegers ? '+big' : ''}\n${sql}`;
    let statement = this.#prepared.get(key);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      // raw and pluck apply only to statements that return rows; a write keeps its default.
      if (statement.reader) {
        if (mode === 'raw') statement.raw(true);
        else if (mode === 'pluck') statement.pluck(true);
        if (safeIntegers) statement.safeIntegers(true);
      }
      this.#prepared.set(key, statement);
    }
    return statement;
  }

  /**
   * A statement of its own, never shared: for `iterate()`, since an iterating statement is busy until its last
   * row is read and two iterations (two `verify` calls) may overlap.
   */
  privateStatement(sql: string, mode: RowMode = 'object'): Database.Statement {
    const statement = this.db.prepare(sql);
    if (mode === 'raw') statement.raw(true);
    else if (mode === 'pluck') statement.pluck(true);
    return statement;
  }

  /**
   * Runs `work` in one transaction: all of it commits, or (when it throws) none of it. Nested calls join the
   * outer transaction (as savepoints), so a repository method that is atomic on its own stays atomic inside a batch.
   */
  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }
}
