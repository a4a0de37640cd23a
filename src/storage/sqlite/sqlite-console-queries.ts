import type Database from 'better-sqlite3';
import { decodeEventRecord } from '../../core/event-record.js';
import { pathFromKey, pathKey, subtreeKeyRange } from '../../core/path-bytes.js';
import type { AlertAck } from '../console-repository.js';
import type { AlertBucket, AlertFilter, AlertSummary, ChangedPath, ConsoleQueries, FileHistoryEntry, FleetAgent, LiveCursor } from '../console-queries.js';

// Both alert tables, shaped alike. File alerts take their description, event, path and verdict from the history
// record they were raised for (json_extract: no record is decoded to list a page); agent alerts from their JSON.
const FILE_COLUMNS = `a.ts, a.id, a.agent_id, a.rule_id, a.level, json_extract(e.data, '$.rule.description') AS description,
  json_extract(e.data, '$.event') AS event, json_extract(e.data, '$.path') AS path, json_extract(e.data, '$.verdict.verdict') AS verdict`;
const AGENT_COLUMNS = `a.ts, a.id, a.agent_id, a.rule_id, a.level, json_extract(a.json, '$.rule.description') AS description,
  json_extract(a.json, '$.custos.agent_event') AS event, NULL AS path, NULL AS verdict`;

interface SummaryRow {
  ts: string;
  id: string;
  agent_id: string;
  rule_id: number;
  level: number;
  description: string | null;
  event: string | null;
  path: string | null;
  verdict: string | null;
  agent_name: string | null;
  acked_by: string | null;
  acked_at: string | null;
  note: string | null;
}

/** The console's read side over the manager's SQLite file: every page is an index range, bounded by its limit. */
export class SqliteConsoleQueries implements ConsoleQueries {
  readonly #db: Database.Database;

  /** `db`: a connection to a store whose schema includes the console migration. */
  constructor(db: Database.Database) {
    this.#db = db;
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
    return (this.#db.prepare(sql).all(...all) as SummaryRow[]).map(toSummary);
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
      .all(cursor.fileSeq, limit) as (SummaryRow & { seq: number })[];
    const agents = this.#db.prepare(`SELECT ${AGENT_COLUMNS}, ${extra} FROM agent_alerts a ${tail}`).all(cursor.agentSeq, limit) as (SummaryRow & {
      seq: number;
    })[];
    const next = { fileSeq: files.at(-1)?.seq ?? cursor.fileSeq, agentSeq: agents.at(-1)?.seq ?? cursor.agentSeq };
    const alerts = [...files, ...agents].map(toSummary).sort((x, y) => (x.ts < y.ts ? -1 : x.ts > y.ts ? 1 : 0));
    return { alerts, cursor: next };
  }

  async fleetAgents(nowMs: number, silentAfterMs: number): Promise<readonly FleetAgent[]> {
    const agents = this.#db
      .prepare(
        `SELECT g.id, g.name, g.group_name, g.revoked_at, g.last_seen, g.silent_since, m.value AS last_scan
         FROM agents g LEFT JOIN agent_meta m ON m.agent_id = g.id AND m.key = 'console_last_scan' WHERE g.id <> '000' ORDER BY g.id`,
      )
      .all() as {
      id: string;
      name: string;
      group_name: string | null;
      revoked_at: string | null;
      last_seen: string | null;
      silent_since: string | null;
      last_scan: string | null;
    }[];
    // Open alerts by agent and level: both tables, less what is acknowledged.
    const open = this.#db
      .prepare(
        `SELECT agent_id, level, count(*) AS n FROM (
           SELECT agent_id, level, id FROM alerts UNION ALL SELECT agent_id, level, id FROM agent_alerts
         ) a WHERE NOT EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id) GROUP BY agent_id, level`,
      )
      .all() as { agent_id: string; level: number; n: number }[];
    const byAgent = new Map<string, Record<string, number>>();
    for (const row of open) {
      const levels = byAgent.get(row.agent_id) ?? {};
      levels[String(row.level)] = row.n;
      byAgent.set(row.agent_id, levels);
    }
    return agents.map((a) => {
      const seen = a.last_seen === null ? 0 : Date.parse(a.last_seen);
      const status = a.revoked_at !== null ? 'revoked' : a.silent_since !== null || nowMs - seen > silentAfterMs ? 'silent' : 'online';
      const scan = a.last_scan === null ? undefined : (JSON.parse(a.last_scan) as { at?: string; entries?: number });
      return {
        id: a.id,
        name: a.name,
        status,
        openAlerts: byAgent.get(a.id) ?? {},
        ...(a.group_name === null ? {} : { group: a.group_name }),
        ...(a.last_seen === null ? {} : { lastSeen: a.last_seen }),
        ...(typeof scan?.at === 'string' ? { lastScan: scan.at } : {}),
        ...(typeof scan?.entries === 'number' ? { baselineSize: scan.entries } : {}),
      };
    });
  }

  async alertsOverTime(since: string, bucket: 'hour' | 'day'): Promise<readonly AlertBucket[]> {
    const width = bucket === 'hour' ? 13 : 10;
    return this.#db
      .prepare(
        `SELECT substr(ts, 1, @width) AS bucket, level, count(*) AS count FROM (
           SELECT ts, level FROM alerts WHERE ts >= @since UNION ALL SELECT ts, level FROM agent_alerts WHERE ts >= @since
         ) GROUP BY bucket, level ORDER BY bucket, level`,
      )
      .all({ width, since }) as AlertBucket[];
  }

  async mostChangedPaths(since: string, limit: number): Promise<readonly ChangedPath[]> {
    const rows = this.#db
      .prepare('SELECT agent_id, path_key, count(*) AS n FROM events WHERE ts >= ? GROUP BY agent_id, path_key ORDER BY n DESC, agent_id, path_key LIMIT ?')
      .all(since, limit) as { agent_id: string; path_key: Buffer; n: number }[];
    return rows.map((r) => ({ agentId: r.agent_id, path: pathFromKey(r.path_key), changes: r.n }));
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

function toSummary(r: SummaryRow): AlertSummary {
  return {
    id: r.id,
    ts: r.ts,
    agentId: r.agent_id,
    agentName: r.agent_name ?? '',
    ruleId: r.rule_id,
    level: r.level,
    description: r.description ?? '',
    ...(r.event === null ? {} : { event: r.event }),
    ...(r.path === null ? {} : { path: Buffer.from(r.path, 'base64') }),
    ...(r.verdict === null ? {} : { verdict: r.verdict }),
    ...(r.acked_by === null || r.acked_at === null ? {} : { ack: fromRawAck({ alertId: r.id, ackedBy: r.acked_by, ackedAt: r.acked_at, note: r.note }) }),
  };
}
