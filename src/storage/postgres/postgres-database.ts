import pg from 'pg';
import { CustosError } from '../../core/custos-error.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';

/** Anything SQL can be sent through: the pool (one statement, its own transaction) or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>>;
}

/** Where a PostgreSQL store lives: a connection string and the schema its tables are in. */
export interface PostgresLocation {
  readonly url: string;
  /** Lowercase identifier; `public` unless the URL names one with `?schema=NAME`. */
  readonly schema: string;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A set of tables with its own migrations and version table, so two of them can share one schema. */
export interface PostgresSchemaKind {
  /** What it is, in messages ("store", "known-hash database"). */
  readonly what: string;
  /** The table whose one row counts the migrations that ran. */
  readonly versionTable: string;
  readonly migrations: readonly string[];
  /** Server settings for every connection (`-c name=value ...`), constants of this program. */
  readonly settings?: string;
}

/** The manager's store: baselines, history, alerts. */
export const CUSTOS_STORE_SCHEMA: PostgresSchemaKind = { what: 'store', versionTable: 'custos_schema_version', migrations: POSTGRES_MIGRATIONS };

/**
 * Splits Custos's own `schema` parameter off a `postgres://` URL (the driver would pass it on to the server as a
 * setting, which the server refuses). Several Custos deployments, or the tests, can so share one database.
 */
export function parsePostgresUrl(url: string): PostgresLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CustosError('CONFIG_INVALID', `${redactPostgresUrl(url)} is not a postgres:// URL`);
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
    throw new CustosError('CONFIG_INVALID', `${redactPostgresUrl(url)} is not a postgres:// URL`);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  if (!SCHEMA_NAME.test(schema))
    throw new CustosError('CONFIG_INVALID', `schema "${schema}" in the store URL must be a lowercase identifier (letters, digits, _)`);
  parsed.searchParams.delete('schema');
  return { url: parsed.toString(), schema };
}

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactPostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    // Not a URL at all: say nothing of what it holds.
    return 'the PostgreSQL URL';
  }
}

/**
 * One pool on one schema, shared by every repository of a `PostgresStore`: plain statements, transactions, and
 * the migrations, run once however many managers start at the same time.
 */
export class PostgresDatabase implements Queryable {
  readonly pool: pg.Pool;
  readonly schema: string;
  readonly #display: string;

  readonly #config: pg.ClientConfig;

  private constructor(pool: pg.Pool, config: pg.ClientConfig, schema: string, display: string) {
    this.pool = pool;
    this.#config = config;
    this.schema = schema;
    this.#display = display;
  }

  /**
   * Connects, creates the schema when missing and brings it up to date. `mustExist`: a schema without a Custos
   * store in it is an error (for commands that only read: they never create a store).
   */
  static async open(
    url: string,
    options: { readonly max?: number; readonly mustExist?: boolean; readonly kind?: PostgresSchemaKind } = {},
  ): Promise<PostgresDatabase> {
    const location = parsePostgresUrl(url);
    const display = redactPostgresUrl(location.url);
    const config: pg.ClientConfig = {
      connectionString: location.url,
      // Every connection works in the store's schema; the name is checked above, so it is safe in a setting.
      options: `-c search_path=${location.schema}${options.kind?.settings === undefined ? '' : ` ${options.kind.settings}`}`,
      application_name: 'custos',
    };
    const pool = new pg.Pool({ ...config, max: options.max ?? 8 });
    // An idle connection the server dropped must not crash the process; the next query gets a new one.
    pool.on('error', () => undefined);
    const db = new PostgresDatabase(pool, config, location.schema, display);
    try {
      await db.#migrate(options.mustExist === true, options.kind ?? CUSTOS_STORE_SCHEMA);
    } catch (error) {
      await pool.end();
      if (error instanceof CustosError) throw error;
      const what = options.kind?.what ?? 'store';
      throw new CustosError('STORE_FAILED', `failed to open the PostgreSQL ${what} ${display}: ${(error as Error).message}`, { cause: error });
    }
    return db;
  }

  /** The URL without its password: what may appear in messages. */
  get display(): string {
    return this.#display;
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values as unknown[] | undefined);
  }

  /** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  async transaction<T>(work: (client: Queryable) => Promise<T>, isolation: 'READ COMMITTED' | 'REPEATABLE READ' = 'READ COMMITTED'): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection itself failed: it is not given back to the pool.
        broken = true;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Takes a dedicated connection (for a snapshot read that spans the consumer's awaits); release it after. */
  connect(): Promise<pg.PoolClient> {
    return this.pool.connect();
  }

  /** A connection outside the pool, for a session that must outlive any query (an advisory lock); end it after. */
  async session(): Promise<pg.Client> {
    const client = new pg.Client(this.#config);
    await client.connect();
    return client;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async #migrate(mustExist: boolean, kind: PostgresSchemaKind): Promise<void> {
    const { versionTable, migrations } = kind;
    // A reading command on a schema that is already current writes nothing, so it also runs on a hot standby.
    if (mustExist && (await this.#currentWithoutWrites(kind))) return;
    await this.transaction(async (db) => {
      if (mustExist && (await db.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [versionTable])).rows[0]?.found !== true) {
        throw this.#missing(kind);
      }
      // Two managers starting at once: one migrates, the other waits and finds it done.
      await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`custos.migrate.${this.schema}`]);
      await db.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      // The table names are constants of this program, never input.
      await db.query(`CREATE TABLE IF NOT EXISTS ${versionTable} (version INTEGER NOT NULL)`);
      const row = (await db.query<{ version: number }>(`SELECT version FROM ${versionTable}`)).rows[0];
      const version = row?.version ?? 0;
      if (row === undefined) await db.query(`INSERT INTO ${versionTable} (version) VALUES (0)`);
      if (version > migrations.length) {
        throw new CustosError(
          'STORE_FAILED',
          `the PostgreSQL ${kind.what} ${this.#display} was written by a newer Custos (schema ${version}); upgrade Custos to open it`,
        );
      }
      for (let v = version; v < migrations.length; v++) {
        await db.query(migrations[v] as string);
        await db.query(`UPDATE ${versionTable} SET version = $1`, [v + 1]);
      }
    });
  }

  /** The error for a reading command on a schema that holds no Custos tables of this kind. */
  #missing(kind: PostgresSchemaKind): CustosError {
    return new CustosError(
      'NOT_FOUND',
      kind === CUSTOS_STORE_SCHEMA
        ? `no Custos store in schema ${this.schema} of ${this.#display} (start a manager on it first, or check --store)`
        : `no Custos ${kind.what} in schema ${this.schema} of ${this.#display}`,
    );
  }

  /**
   * For a command that only reads: true when the tables exist and are at this version's schema, found by reading
   * alone. A schema that needs migrating on a read-only server (a hot standby) is an error naming what to do; a
   * missing one is the same error as on the primary; anything else goes on to the migrating path.
   */
  async #currentWithoutWrites(kind: PostgresSchemaKind): Promise<boolean> {
    const { versionTable, migrations } = kind;
    const { rows } = await this.query<{ found: boolean; standby: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found, pg_is_in_recovery() AS standby', [
      versionTable,
    ]);
    const { found = false, standby = false } = rows[0] ?? {};
    if (!found) throw this.#missing(kind);
    // The table name is a constant of this program, never input.
    const version = (await this.query<{ version: number }>(`SELECT version FROM ${versionTable}`)).rows[0]?.version ?? 0;
    if (version === migrations.length) return true;
    if (standby && version < migrations.length) {
      throw new CustosError(
        'STORE_FAILED',
        `the PostgreSQL ${kind.what} ${this.#display} is a hot standby at schema ${version}, older than this Custos (${migrations.length}): start this version's manager on the primary first, then read the standby`,
      );
    }
    return false;
  }
}
