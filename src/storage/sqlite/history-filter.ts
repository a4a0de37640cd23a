import { subtreeKeyRange } from '../../core/path-bytes.js';
import type { HistoryQuery } from '../history-repository.js';

/** Rows per page when the history or the alerts are read: a page is read whole, then handed out row by row. */
export const HISTORY_PAGE_ROWS = 500;

/** The columns a history query filters on, in one table or join. */
export interface FilterColumns {
  readonly agent: string;
  readonly ts: string;
  /** Absent: the table has no path, and a query with a path matches none of its rows. */
  readonly path?: string;
}

/** A parameterised WHERE condition (never empty: `1` when nothing filters) and its parameters. */
export interface SqlFilter {
  readonly where: string;
  readonly params: readonly unknown[];
}

/** The condition a history query's agent, time and path filters make; the limit is the caller's to apply. */
export function historyFilter(query: HistoryQuery, columns: FilterColumns): SqlFilter {
  const where: string[] = [];
  const params: unknown[] = [];
  if (query.agentId !== undefined) {
    where.push(`${columns.agent} = ?`);
    params.push(query.agentId);
  }
  if (query.since !== undefined) {
    where.push(`${columns.ts} >= ?`);
    params.push(query.since);
  }
  if (query.path !== undefined) {
    if (columns.path === undefined) return { where: '0', params: [] };
    const range = subtreeKeyRange(query.path);
    where.push(`${columns.path} >= ? AND ${columns.path} < ?`);
    params.push(range.from, range.to);
  }
  return { where: where.length === 0 ? '1' : where.join(' AND '), params };
}
