import type Database from 'better-sqlite3';
import { decodeEventRecord } from '../../core/event-record.js';
import { pathKey, subtreeKeyRange } from '../../core/path-bytes.js';
import type { AlertAck } from '../console-repository.js';
import type { AlertBucket, AlertFilter, AlertSummary, ChangedPath, ConsoleQueries, FileHistoryEntry, FleetAgent, LiveCursor } from '../console-queries.js';
import type { ContentGroups, HashHit, HashHitCursor, SearchDigest } from '../fleet-search-queries.js';
import { alertSummaryFromRow, FLEET_AGENTS_SQL, fleetAgentFromRow, type AlertSummaryRow, type FleetAgentRow } from '../console-rows.js';
import { SqliteFleetOverview } from './sqlite-fleet-overview.js';
import { SqliteFleetSearch } from './sqlite-fleet-search.js';

// Both alert tables, shaped alike. File alerts take their description, event, path and verdict from the history
// record they were raised for (json_extract: no record is decoded to list a page); agent alerts from their JSON.
const FILE_COLUMNS = `a.ts, a.id, a.agent_id, a.rule_id, a.level, json_extract(e.data, '$.rule.description') AS description,
  json_extract(e.data, '$.event') AS event, json_extract(e.data, '$.path') AS path, json_extract(e.data, '$.verdict.verdict') AS verdict`;
const AGENT_COLUMNS = `a.ts, a.id, a.agent_id, a.rule_id, a.level, json_extract(a.json, '$.rule.description') AS description,
  json_extract(a.json, '$.custos.agent_event') AS event, NULL AS path, NULL AS verdict`;

/** The console's read side over the manager's SQLite file: every page is an index range, bounded by its limit. */
export class SqliteConsoleQueries implements ConsoleQueries {
  readonly #db: Database.Database;
  readonly #search: SqliteFleetSearch;
  readonly #overview: SqliteFleetOverview;

  /** `db`: a connection to a store whose schema includes the console migration. */
  constructor(db: Database.Database) {
    this.#db = db;
    this.#search = new SqliteFleetSearch(db);
    this.#overview = new SqliteFleetOverview(db);
  }

  hostsWithDigest(digest: SearchDigest, value: string, limit: number, after?: HashHitCursor): Promise<readonly HashHit[]> {
    return this.#search.hostsWithDigest(digest, value, limit, after);
  }

  contentGroupsAt(path: Buffer, query: { readonly limit: number; readonly offset: number; readonly hostLimit: number }): Promise<ContentGroups> {
    return this.#search.contentGroupsAt(path, query);
  }

  async listAlerts(filter: AlertFilter): Promise<readonly AlertSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (condition: string, ...values: unknown[]): void => {
      where.push(condition);
      params.push(...values);
    };
    if (filter.agentId !== undefined) add('a.agent_id = ?', filter.agentId);
    if (filter.minLevel !== undefined) add('a.level >= ?', filter.minLevel);
    if (filter.ruleId !== undefined) add('a.rule_id = ?', filter.ruleId);
    if (filter.since !== undefined) add('a.ts >= ?', filter.since);
    if (filter.until !== undefined) add('a.ts < ?', filter.until);
    if (filter.after !== undefined) add('(a.ts, a.id) < (?, ?)', filter.after.ts, filter.after.id);
    if (filter.status === 'open') add('NOT EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id)');
    if (filter.status === 'acked') add('EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id)');
    const fileWhere = [...where];
    const fileParams = [...params];
    if (filter.pathPrefix !== undefined) {
      const range = subtreeKeyRange(filter.pathPrefix);
      fileWhere.push('e.path_key >= ? AND e.path_key < ?');
      fileParams.push(range.from, range.to);
    }
    const clause = (w: string[]): string => (w.length === 0 ? '' : `WHERE ${w.join(' AND ')}`);
    const order = 'ORDER BY a.ts DESC, a.id DESC LIMIT ?';
    const fileSql = `SELECT * FROM (SELECT ${FILE_COLUMNS} FROM alerts a JOIN events e ON e.id = a.event_id ${clause(fileWhere)} ${order})`;
    // Alerts about agents have no path: a path filter leaves them out.
    const agentSql = filter.pathPrefix === undefined ? ` UNION ALL SELECT * FROM (SELECT ${AGENT_COLUMNS} FROM agent_alerts a ${clause(where)} ${order})` : '';
    const sql = `SELECT x.*, g.name AS agent_name, k.acked_by, k.acked_at, k.note FROM (${fileSql}${agentSql}) x
      LEFT JOIN agents g ON g.id = x.agent_id LEFT JOIN console_acks k ON k.alert_id = x.id ORDER BY x.ts DESC, x.id DESC LIMIT ?`;
    const all = [...fileParams, filter.limit, ...(agentSql === '' ? [] : [...params, filter.limit]), filter.limit];
    return (this.#db.prepare(sql).all(...all) as AlertSummaryRow[]).map(alertSummaryFromRow);
  }

  async liveCursor(): Promise<LiveCursor> {
    const fileSeq = (this.#db.prepare('SELECT coalesce(max(rowid), 0) FROM alerts').pluck().get() as number) ?? 0;
    const agentSeq = (this.#db.prepare('SELECT coalesce(max(rowid), 0) FROM agent_alerts').pluck().get() as number) ?? 0;
    return { fileSeq, agentSeq };
  }

  async alertsAfter(cursor: LiveCursor, limit: number): Promise<{ alerts: readonly AlertSummary[]; cursor: LiveCursor }> {
    const tail = 'LEFT JOIN agents g ON g.id = a.agent_id LEFT JOIN console_acks k ON k.alert_id = a.id WHERE a.rowid > ? ORDER BY a.rowid LIMIT ?';
    const extra = 'a.rowid AS seq, g.name AS agent_name, k.acked_by, k.acked_at, k.note';
    const files = this.#db
      .prepare(`SELECT ${FILE_COLUMNS}, ${extra} FROM alerts a JOIN events e ON e.id = a.event_id ${tail}`)
      .all(cursor.fileSeq, limit) as (AlertSummaryRow & { seq: number })[];
    const agents = this.#db.prepare(`SELECT ${AGENT_COLUMNS}, ${extra} FROM agent_alerts a ${tail}`).all(cursor.agentSeq, limit) as (AlertSummaryRow & {
      seq: number;
    })[];
    const next = { fileSeq: files.at(-1)?.seq ?? cursor.fileSeq, agentSeq: agents.at(-1)?.seq ?? cursor.agentSeq };
    const alerts = [...files, ...agents].map(alertSummaryFromRow).sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
    return { alerts, cursor: next };
  }

  async fleetAgents(nowMs: number, silentAfterMs: number): Promise<readonly FleetAgent[]> {
    const agents = this.#db.prepare(FLEET_AGENTS_SQL).all() as FleetAgentRow[];
    // Open alerts by agent and level: summary rows kept with the alerts and acknowledgements they count.
    const open = this.#overview.openAlertCounts();
    const byAgent = new Map<string, Record<string, number>>();
    for (const row of open) {
      const levels = byAgent.get(row.agent_id) ?? {};
      levels[String(row.level)] = row.n;
      byAgent.set(row.agent_id, levels);
    }
    return agents.map((a) => fleetAgentFromRow(a, byAgent, nowMs, silentAfterMs));
  }

  async alertsOverTime(since: string, bucket: 'hour' | 'day'): Promise<readonly AlertBucket[]> {
    return this.#overview.alertsOverTime(since, bucket);
  }

  async mostChangedPaths(since: string, limit: number): Promise<readonly ChangedPath[]> {
    // The hour summaries are kept by SQLite's clock (the real one), so the window is judged by it too.
    return this.#overview.mostChangedPaths(since, limit, Date.now());
  }

  async fileHistory(agentId: string, path: Buffer, limit: number, beforeEventId?: number): Promise<readonly FileHistoryEntry[]> {
    const rows = this.#db
      .prepare('SELECT id, data FROM events WHERE agent_id = ? AND path_key = ? AND id < ? ORDER BY id DESC LIMIT ?')
      .all(agentId, pathKey(path), beforeEventId ?? Number.MAX_SAFE_INTEGER, limit) as { id: number; data: string }[];
    const ack = this.#db.prepare('SELECT alert_id AS alertId, acked_by AS ackedBy, acked_at AS ackedAt, note FROM console_acks WHERE alert_id = ?');
    return rows.map((r) => {
      const record = decodeEventRecord(r.data);
      const found = record.alertId === undefined ? undefined : (ack.get(record.alertId) as RawAck | undefined);
      return { eventId: r.id, record, ...(found === undefined ? {} : { ack: fromRawAck(found) }) };
    });
  }

  async openAlertIdsFor(agentId: string, path: Buffer): Promise<readonly string[]> {
    return this.#db
      .prepare(
        `SELECT a.id FROM events e JOIN alerts a ON a.id = json_extract(e.data, '$.alert')
         WHERE e.agent_id = ? AND e.path_key = ? AND NOT EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id)`,
      )
      .pluck()
      .all(agentId, pathKey(path)) as string[];
  }
}

interface RawAck {
  alertId: string;
  ackedBy: string;
  ackedAt: string;
  note: string | null;
}

function fromRawAck(r: RawAck): AlertAck {
  return { alertId: r.alertId, ackedBy: r.ackedBy, ackedAt: r.ackedAt, ...(r.note === null ? {} : { note: r.note }) };
}
