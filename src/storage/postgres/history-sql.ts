import { subtreeKeyRange } from '../../core/path-bytes.js';
import type { HistoryQuery } from '../store.js';

/**
 * Builds the parameterised SELECT for a history query; with a limit, the newest rows, returned oldest first.
 * `order` names the ordering columns, which must also be the first selected columns, in that order.
 */
export function historySql(
  select: string,
  order: string | readonly string[],
  query: HistoryQuery,
  columns: { readonly agent: string; readonly ts: string; readonly path: string } = { agent: 'agent_id', ts: 'ts', path: 'path_key' },
): { readonly text: string; readonly values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  if (query.agentId !== undefined) where.push(`${columns.agent} = ${param(query.agentId)}`);
  if (query.since !== undefined) where.push(`${columns.ts} >= ${param(query.since)}`);
  if (query.path !== undefined) {
    const range = subtreeKeyRange(query.path);
    where.push(`${columns.path} >= ${param(range.from)} AND ${columns.path} < ${param(range.to)}`);
  }
  const orders = typeof order === 'string' ? [order] : order;
  const filter = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
  if (query.limit === undefined) return { text: `${select}${filter} ORDER BY ${orders.join(', ')}`, values };
  const newestFirst = orders.map((c) => `${c} DESC`).join(', ');
  const outer = orders.map((_, i) => String(i + 1)).join(', ');
  return { text: `SELECT * FROM (${select}${filter} ORDER BY ${newestFirst} LIMIT ${param(query.limit)}) AS newest ORDER BY ${outer}`, values };
}
