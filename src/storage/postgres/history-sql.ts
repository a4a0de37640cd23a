import { buildAlert, type AnyAlert } from '../../core/build-alert.js';
import { decodeEventRecord } from '../../core/event-record.js';
import { subtreeKeyRange } from '../../core/path-bytes.js';
import type { HistoryQuery } from '../store.js';

/**
 * Builds the parameterised SELECT for a history query; with a limit, the newest rows, returned oldest first. The
 * first selected column must be the ordering one.
 */
export function historySql(
  select: string,
  order: string,
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
  const filter = where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`;
  if (query.limit === undefined) return { text: `${select}${filter} ORDER BY ${order}`, values };
  return { text: `SELECT * FROM (${select}${filter} ORDER BY ${order} DESC LIMIT ${param(query.limit)}) AS newest ORDER BY 1`, values };
}

/** Rebuilds a file alert from the history record it was raised for (undefined for a record without a rule). */
export function fileAlertFromRecord(id: string, data: string, names: ReadonlyMap<string, string>): AnyAlert | undefined {
  const r = decodeEventRecord(data);
  if (r.rule === undefined) return undefined;
  return buildAlert({
    id,
    timestamp: new Date(r.timestamp),
    agent: { id: r.agentId, name: names.get(r.agentId) ?? '' },
    rule: r.rule,
    change: r.change,
    verdict: r.verdict,
    ...(r.rolledUp === undefined ? {} : { rolledUp: r.rolledUp }),
    view: { mode: r.mode ?? 'scheduled', fullLogStyle: r.fullLogStyle ?? 'ossec' },
    ...(r.decoder === undefined ? {} : { decoder: r.decoder }),
    ...(r.firedTimes === undefined ? {} : { firedTimes: r.firedTimes }),
  });
}
