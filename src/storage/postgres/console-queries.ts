import { decodeEventRecord } from '../../core/event-record.js';
import { pathKey, subtreeKeyRange } from '../../core/path-bytes.js';
import type { AlertAck } from '../console-repository.js';
import type { AlertBucket, AlertFilter, AlertSummary, ChangedPath, ConsoleQueries, FileHistoryEntry, FleetAgent, LiveCursor } from '../console-queries.js';
import type { ContentGroups, HashHit, HashHitCursor, SearchDigest } from '../fleet-search-queries.js';
import { alertSummaryFromRow, type AlertSummaryRow } from '../console-rows.js';
import { PostgresFleetQueries } from './fleet-queries.js';
import type { PostgresDatabase } from './postgres-database.js';

// Both alert tables, shaped alike (see the SQLite engine): file alerts take their description, event, path and
// verdict from the history record they were raised for, agent alerts from their JSON.
const FILE_COLUMNS = `a.ts, a.id, a.agent_id, a.rule_id, a.level, (e.data::jsonb)->'rule'->>'description' AS description,
  (e.data::jsonb)->>'event' AS event, (e.data::jsonb)->>'path' AS path, (e.data::jsonb)->'verdict'->>'verdict' AS verdict`;
const AGENT_COLUMNS = `a.ts, a.id, a.agent_id, a.rule_id, a.level, (a.json::jsonb)->'rule'->>'description' AS description,
  (a.json::jsonb)->'custos'->>'agent_event' AS event, NULL AS path, NULL AS verdict`;

/** Numbered parameters for a statement built piece by piece. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The console's read side over the PostgreSQL store: the same pages as the SQLite engine, as index ranges. */
export class PostgresConsoleQueries implements ConsoleQueries {
  readonly #db: PostgresDatabase;
  readonly #fleet: PostgresFleetQueries;

  /** `db`: the store's database, its schema brought up to date. */
  constructor(db: PostgresDatabase) {
    this.#db = db;
    this.#fleet = new PostgresFleetQueries(db);
  }

  async listAlerts(filter: AlertFilter): Promise<readonly AlertSummary[]> {
    const p = new Params();
    const conditions = (withPath: boolean): string => {
      const where: string[] = [];
      if (filter.agentId !== undefined) where.push(`a.agent_id = ${p.add(filter.agentId)}`);
      if (filter.minLevel !== undefined) where.push(`a.level >= ${p.add(filter.minLevel)}`);
      if (filter.ruleId !== undefined) where.push(`a.rule_id = ${p.add(filter.ruleId)}`);
      if (filter.since !== undefined) where.push(`a.ts >= ${p.add(filter.since)}`);
      if (filter.until !== undefined) where.push(`a.ts < ${p.add(filter.until)}`);
      if (filter.after !== undefined) where.push(`(a.ts, a.id) < (${p.add(filter.after.ts)}, ${p.add(filter.after.id)})`);
      if (filter.status === 'open') where.push('NOT EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id)');
      if (filter.status === 'acked') where.push('EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id)');
      if (withPath && filter.pathPrefix !== undefined) {
        const range = subtreeKeyRange(filter.pathPrefix);
        where.push(`e.path_key >= ${p.add(range.from)} AND e.path_key < ${p.add(range.to)}`);
      }
      return where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
    };
    const order = `ORDER BY a.ts DESC, a.id DESC LIMIT ${p.add(filter.limit)}`;
    const fileSql = `(SELECT ${FILE_COLUMNS} FROM alerts a JOIN events e ON e.id = a.event_id ${conditions(true)} ${order})`;
    // Alerts about agents have no path: a path filter leaves them out.
    const agentSql = filter.pathPrefix === undefined ? ` UNION ALL (SELECT ${AGENT_COLUMNS} FROM agent_alerts a ${conditions(false)} ${order})` : '';
    const sql = `SELECT x.*, g.name AS agent_name, k.acked_by, k.acked_at, k.note FROM (${fileSql}${agentSql}) x
      LEFT JOIN agents g ON g.id = x.agent_id LEFT JOIN console_acks k ON k.alert_id = x.id ORDER BY x.ts DESC, x.id DESC LIMIT ${p.add(filter.limit)}`;
    return (await this.#db.query<AlertSummaryRow>(sql, p.values)).rows.map(alertSummaryFromRow);
  }

  async liveCursor(): Promise<LiveCursor> {
    const row = (
      await this.#db.query<{ f: string; a: string }>(
        'SELECT (SELECT coalesce(max(seq), 0) FROM alerts) AS f, (SELECT coalesce(max(seq), 0) FROM agent_alerts) AS a',
      )
    ).rows[0];
    return { fileSeq: Number(row?.f ?? 0), agentSeq: Number(row?.a ?? 0) };
  }

  async alertsAfter(cursor: LiveCursor, limit: number): Promise<{ alerts: readonly AlertSummary[]; cursor: LiveCursor }> {
    const tail = 'LEFT JOIN agents g ON g.id = a.agent_id LEFT JOIN console_acks k ON k.alert_id = a.id WHERE a.seq > $1 ORDER BY a.seq LIMIT $2';
    const extra = 'a.seq, g.name AS agent_name, k.acked_by, k.acked_at, k.note';
    type Row = AlertSummaryRow & { seq: string };
    const files = (
      await this.#db.query<Row>(`SELECT ${FILE_COLUMNS}, ${extra} FROM alerts a JOIN events e ON e.id = a.event_id ${tail}`, [cursor.fileSeq, limit])
    ).rows;
    const agents = (await this.#db.query<Row>(`SELECT ${AGENT_COLUMNS}, ${extra} FROM agent_alerts a ${tail}`, [cursor.agentSeq, limit])).rows;
    const last = (rows: Row[], from: number): number => (rows.length === 0 ? from : Number(rows[rows.length - 1]!.seq));
    const alerts = [...files, ...agents].map(alertSummaryFromRow).sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
    return { alerts, cursor: { fileSeq: last(files, cursor.fileSeq), agentSeq: last(agents, cursor.agentSeq) } };
  }

  fleetAgents(nowMs: number, silentAfterMs: number): Promise<readonly FleetAgent[]> {
    return this.#fleet.fleetAgents(nowMs, silentAfterMs);
  }

  alertsOverTime(since: string, bucket: 'hour' | 'day'): Promise<readonly AlertBucket[]> {
    return this.#fleet.alertsOverTime(since, bucket);
  }

  mostChangedPaths(since: string, limit: number): Promise<readonly ChangedPath[]> {
    return this.#fleet.mostChangedPaths(since, limit);
  }

  hostsWithDigest(digest: SearchDigest, value: string, limit: number, after?: HashHitCursor): Promise<readonly HashHit[]> {
    return this.#fleet.hostsWithDigest(digest, value, limit, after);
  }

  contentGroupsAt(path: Buffer, query: { readonly limit: number; readonly offset: number; readonly hostLimit: number }): Promise<ContentGroups> {
    return this.#fleet.contentGroupsAt(path, query);
  }

  async fileHistory(agentId: string, path: Buffer, limit: number, beforeEventId?: number): Promise<readonly FileHistoryEntry[]> {
    const rows = (
      await this.#db.query<{ id: string; data: string; acked_by: string | null; acked_at: string | null; note: string | null; alert_id: string | null }>(
        `SELECT e.id, e.data, k.alert_id, k.acked_by, k.acked_at, k.note FROM events e LEFT JOIN console_acks k ON k.alert_id = (e.data::jsonb)->>'alert'
         WHERE e.agent_id = $1 AND e.path_key = $2 AND e.id < $3 ORDER BY e.id DESC LIMIT $4`,
        [agentId, pathKey(path), beforeEventId ?? Number.MAX_SAFE_INTEGER, limit],
      )
    ).rows;
    return rows.map((r) => {
      const record = decodeEventRecord(r.data);
      const ack: AlertAck | undefined =
        r.alert_id === null || r.acked_by === null || r.acked_at === null
          ? undefined
          : { alertId: r.alert_id, ackedBy: r.acked_by, ackedAt: r.acked_at, ...(r.note === null ? {} : { note: r.note }) };
      return { eventId: Number(r.id), record, ...(ack === undefined ? {} : { ack }) };
    });
  }

  async openAlertIdsFor(agentId: string, path: Buffer): Promise<readonly string[]> {
    const rows = (
      await this.#db.query<{ id: string }>(
        `SELECT a.id FROM events e JOIN alerts a ON a.id = (e.data::jsonb)->>'alert'
         WHERE e.agent_id = $1 AND e.path_key = $2 AND NOT EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id) ORDER BY e.id`,
        [agentId, pathKey(path)],
      )
    ).rows;
    return rows.map((r) => r.id);
  }
}
