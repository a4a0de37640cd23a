import { HISTORY_PAGE_ROWS, type SqlFilter } from './history-filter.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** One stored alert row in a time-ordered read: its time, its row id (the tie-break) and its payload columns. */
export type AlertRow = readonly [ts: string, rowid: number, ...payload: unknown[]];

/** One table (or join) of alerts read in (ts, rowid) order. */
export interface AlertSource {
  /** `FROM ...` with the table's alias, e.g. `alerts a JOIN events e ON e.id = a.event_id`. */
  readonly from: string;
  /** The time and rowid columns, e.g. `a.ts`, `a.rowid`. */
  readonly ts: string;
  readonly rowid: string;
  /** The payload columns after ts and rowid. */
  readonly payload: string;
  readonly filter: SqlFilter;
  /** The highest rowid when the read began (see `maxRowid`): rows committed later are left out. */
  readonly upper: number;
}

/** The highest rowid of a source's table now, 0 when empty. */
export function maxRowid(conn: SqliteConnection, from: string, rowid: string): number {
  return Number(conn.statement(`SELECT coalesce(max(${rowid}), 0) FROM ${from}`, 'pluck').get());
}

/**
 * Reads one alert source page by page in (ts, rowid) order, from keyset to keyset: no page holds more than
 * `HISTORY_PAGE_ROWS` rows, whatever the table's size. With `newest`, only the newest that many rows. Rows
 * committed after the read began (rowid above the one it saw last) are left out.
 */
export function* alertPages(conn: SqliteConnection, source: AlertSource, newest?: number): Generator<AlertRow> {
  const { from, ts, rowid, filter, upper } = source;
  const bounded = `${filter.where} AND ${rowid} <= ?`;
  let after: [string, number] = ['', -1];
  if (newest !== undefined) {
    const oldest = conn
      .statement(`SELECT ${ts}, ${rowid} FROM ${from} WHERE ${bounded} ORDER BY ${ts} DESC, ${rowid} DESC LIMIT 1 OFFSET ?`, 'raw')
      .get(...filter.params, upper, newest - 1) as [string, number] | undefined;
    // Start just before the oldest of the newest rows (same time, the row before it).
    if (oldest !== undefined) after = [oldest[0], oldest[1] - 1];
  }
  const page = conn.statement(
    `SELECT ${ts}, ${rowid}, ${source.payload} FROM ${from} WHERE ${bounded} AND (${ts} > ? OR (${ts} = ? AND ${rowid} > ?)) ORDER BY ${ts}, ${rowid} LIMIT ?`,
    'raw',
  );
  for (;;) {
    const rows = page.all(...filter.params, upper, after[0], after[0], after[1], HISTORY_PAGE_ROWS) as unknown as AlertRow[];
    yield* rows;
    if (rows.length < HISTORY_PAGE_ROWS) return;
    const last = rows[rows.length - 1] as AlertRow;
    after = [last[0], last[1]];
  }
}

/** How many of a source's rows a `newest`-limited read returns (at most `newest`). */
export function countNewest(conn: SqliteConnection, source: AlertSource, newest: number): number {
  const sql = `SELECT count(*) FROM (SELECT 1 FROM ${source.from} WHERE ${source.filter.where} AND ${source.rowid} <= ? ORDER BY ${source.ts} DESC, ${source.rowid} DESC LIMIT ?)`;
  return Number(conn.statement(sql, 'pluck').get(...source.filter.params, source.upper, newest));
}

/**
 * Merges two (ts, rowid)-ordered row streams by time; on equal times the first stream's row comes first (file
 * alerts before agent alerts, as they always were listed).
 */
export function* mergeByTime<A extends AlertRow, B extends AlertRow>(
  a: Iterator<A>,
  b: Iterator<B>,
): Generator<{ readonly from: 'a'; readonly row: A } | { readonly from: 'b'; readonly row: B }> {
  let nextA = a.next();
  let nextB = b.next();
  while (nextA.done !== true || nextB.done !== true) {
    if (nextB.done === true || (nextA.done !== true && nextA.value[0] <= nextB.value[0])) {
      yield { from: 'a', row: nextA.value as A };
      nextA = a.next();
    } else {
      yield { from: 'b', row: nextB.value };
      nextB = b.next();
    }
  }
}
