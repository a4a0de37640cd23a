import pg from 'pg';

/** The machine's PostgreSQL the tests use (trust authentication, database `test`); `CUSTOS_TEST_POSTGRES` overrides. */
export const POSTGRES_TEST_URL = process.env.CUSTOS_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

let n = 0;

/** A schema name of its own for one test store (this process, a counter): tests never see each other's tables. */
export function testSchemaName(prefix = 'custos_t'): string {
  return `${prefix}_${process.pid}_${n++}`;
}

/** The test database's URL pointing at `schema`. */
export function schemaUrl(schema: string): string {
  const url = new URL(POSTGRES_TEST_URL);
  url.searchParams.set('schema', schema);
  return url.toString();
}

/** Drops test schemas and everything in them. */
export async function dropSchemas(schemas: readonly string[]): Promise<void> {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL });
  await client.connect();
  try {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs SQL as someone with direct access to the database would, in `schema`. */
export async function rawSql(schema: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_TEST_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
