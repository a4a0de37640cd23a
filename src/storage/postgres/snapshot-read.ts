import type pg from 'pg';
import type { PostgresDatabase } from './postgres-database.js';

/** Rows fetched per round trip by a paged read: no page of a history of millions is ever held whole. */
export const READ_PAGE_ROWS = 500;

/** Reads inside one read-only snapshot: single statements, and cursors read page by page. */
export interface SnapshotReader {
  query<R extends pg.QueryResultRow>(text: string, values: readonly unknown[]): Promise<readonly R[]>;
  /** The rows of `text`, fetched `READ_PAGE_ROWS` at a time through a cursor of the snapshot's. */
  rows<R extends pg.QueryResultRow>(text: string, values: readonly unknown[]): AsyncGenerator<R>;
}

/**
 * Runs a paged read in one `REPEATABLE READ READ ONLY` transaction on a connection of its own: every page and
 * count comes from the same snapshot, so rows committed while the consumer reads are left out (as the SQLite
 * engine's reads do), and a read-only transaction also runs on a hot standby. The connection goes back to the
 * pool when the read ends, fails, or the consumer stops early.
 */
export async function* snapshotRead<T>(db: PostgresDatabase, read: (reader: SnapshotReader) => AsyncIterable<T>): AsyncGenerator<T> {
  const client = await db.connect();
  let broken = false;
  let cursors = 0;
  const reader: SnapshotReader = {
    query: async <R extends pg.QueryResultRow>(text: string, values: readonly unknown[]) => (await client.query<R>(text, values as unknown[])).rows,
    rows: async function* <R extends pg.QueryResultRow>(text: string, values: readonly unknown[]) {
      // The name is ours, never the caller's text: safe in the statement.
      const name = `custos_read_${++cursors}`;
      await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`, values as unknown[]);
      for (;;) {
        const { rows } = await client.query<R>(`FETCH ${READ_PAGE_ROWS} FROM ${name}`);
        yield* rows;
        if (rows.length < READ_PAGE_ROWS) break;
      }
      await client.query(`CLOSE ${name}`);
    },
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    yield* read(reader);
  } finally {
    // Read-only: ending it either way keeps nothing; a connection that cannot end it is not given back to the pool.
    try {
      await client.query('ROLLBACK');
    } catch {
      broken = true;
    }
    client.release(broken);
  }
}

/**
 * Merges two streams each in time order; on equal times the first stream's item comes first (file alerts before
 * agent alerts, as the SQLite engine lists them).
 */
export async function* mergeByTime<A, B>(
  a: AsyncIterator<A>,
  b: AsyncIterator<B>,
  timeOfA: (item: A) => string,
  timeOfB: (item: B) => string,
): AsyncGenerator<{ readonly from: 'a'; readonly item: A } | { readonly from: 'b'; readonly item: B }> {
  let nextA = await a.next();
  let nextB = await b.next();
  while (nextA.done !== true || nextB.done !== true) {
    if (nextB.done === true || (nextA.done !== true && timeOfA(nextA.value) <= timeOfB(nextB.value))) {
      yield { from: 'a', item: nextA.value as A };
      nextA = await a.next();
    } else {
      yield { from: 'b', item: nextB.value };
      nextB = await b.next();
    }
  }
}
