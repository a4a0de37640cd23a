import { fileAlertFromRecord } from '../file-alert-from-record.js';
import type Database from 'better-sqlite3';
import type { AgentAlert, AnyAlert } from '../../core/build-alert.js';
import type { AlertRepository } from '../alert-repository.js';
import type { HistoryQuery } from '../history-repository.js';
import { alertPages, countNewest, maxRowid, mergeByTime, type AlertSource } from './alert-pages.js';
import { historyFilter } from './history-filter.js';
import { HistorySummaries } from './history-summaries.js';
import type { SqliteConnection } from './sqlite-connection.js';
import type { AppendedAlert } from './sqlite-history-repository.js';

/**
 * Alerts and their delivery queue in SQLite: `alerts` points at the history record a file alert was raised for,
 * `agent_alerts` holds agent alerts whole, and `alert_outbox` lists what the sinks do not have yet.
 */
export class SqliteAlertRepository implements AlertRepository {
  readonly #conn: SqliteConnection;
  readonly #insertFileAlert: Database.Statement;
  readonly #insertAgentAlert: Database.Statement;
  readonly #queue: Database.Statement;
  readonly #summaries: HistorySummaries;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
    this.#summaries = new HistorySummaries(conn.db);
    this.#insertFileAlert = conn.statement('INSERT INTO alerts (id, event_id, agent_id, ts, rule_id, level) VALUES (?, ?, ?, ?, ?, ?)');
    this.#insertAgentAlert = conn.statement('INSERT INTO agent_alerts (id, agent_id, ts, rule_id, level, json) VALUES (?, ?, ?, ?, ?, ?)');
    this.#queue = conn.statement('INSERT INTO alert_outbox (alert_id, agent_alert) VALUES (?, ?)');
  }

  /** Stores file alerts (pointers to their history records) and agent alerts, and queues them all for delivery, in the caller's transaction. */
  addInTransaction(agentId: string, fileAlerts: readonly AppendedAlert[], agentAlerts: readonly AgentAlert[]): void {
    let first: number | bigint | undefined;
    let last: number | bigint = 0;
    for (const { alertId, eventId, record } of fileAlerts) {
      last = this.#insertFileAlert.run(alertId, eventId, agentId, record.timestamp, record.rule?.id ?? 0, record.rule?.level ?? 0).lastInsertRowid;
      first ??= last;
      this.#queue.run(alertId, 0);
    }
    if (first !== undefined) this.#summaries.fileAlertsAdded(first, last);
    for (const alert of agentAlerts) {
      this.#insertAgentAlert.run(alert.id, alert.agent.id, alert.timestamp, alert.rule.id, alert.rule.level, JSON.stringify(alert));
      this.#queue.run(alert.id, 1);
    }
  }

  async recordAgentAlert(alert: AgentAlert): Promise<void> {
    this.#conn.transaction(() => this.addInTransaction(alert.agent.id, [], [alert]));
  }

  async *queryAlerts(query: HistoryQuery): AsyncIterable<AnyAlert> {
    if (query.limit !== undefined && query.limit <= 0) return;
    const names = this.#agentNames();
    const files: AlertSource = {
      from: 'alerts a JOIN events e ON e.id = a.event_id',
      ts: 'a.ts',
      rowid: 'a.rowid',
      payload: 'a.id, e.data',
      filter: historyFilter(query, { agent: 'a.agent_id', ts: 'a.ts', path: 'e.path_key' }),
      upper: maxRowid(this.#conn, 'alerts', 'rowid'),
    };
    // Agent alerts concern no path: a query by path lists file alerts only.
    const agents: AlertSource = {
      from: 'agent_alerts',
      ts: 'ts',
      rowid: 'rowid',
      payload: 'json',
      filter: historyFilter(query, { agent: 'agent_id', ts: 'ts' }),
      upper: maxRowid(this.#conn, 'agent_alerts', 'rowid'),
    };
    // The newest `limit` of the two together are among the newest `limit` of each: read those, skip the excess.
    let skip = query.limit === undefined ? 0 : countNewest(this.#conn, files, query.limit) + countNewest(this.#conn, agents, query.limit) - query.limit;
    const merged = mergeByTime(alertPages(this.#conn, files, query.limit), alertPages(this.#conn, agents, query.limit));
    for (const { from, row } of merged) {
      if (skip > 0) {
        skip--;
        continue;
      }
      if (from === 'b') {
        yield JSON.parse(row[2] as string) as AgentAlert;
      } else {
        const alert = fileAlertFromRecord(row[2] as string, row[3] as string, names);
        if (alert !== undefined) yield alert;
      }
    }
  }

  /** One manager per SQLite file: nobody else's claims to sweep up. */
  async orphanedAlerts(): Promise<readonly AnyAlert[]> {
    return [];
  }

  async undeliveredAlerts(limit: number): Promise<readonly AnyAlert[]> {
    const queued = this.#conn.statement('SELECT alert_id, agent_alert FROM alert_outbox ORDER BY rowid LIMIT ?', 'raw').all(limit) as [string, number][];
    if (queued.length === 0) return [];
    const names = this.#agentNames();
    const fileAlert = this.#conn.statement('SELECT e.data FROM alerts a JOIN events e ON e.id = a.event_id WHERE a.id = ?', 'pluck');
    const agentAlert = this.#conn.statement('SELECT json FROM agent_alerts WHERE id = ?', 'pluck');
    const out: AnyAlert[] = [];
    for (const [id, isAgentAlert] of queued) {
      if (isAgentAlert === 1) {
        const json = agentAlert.get(id) as string | undefined;
        if (json !== undefined) out.push(JSON.parse(json) as AgentAlert);
      } else {
        const data = fileAlert.get(id) as string | undefined;
        const alert = data === undefined ? undefined : fileAlertFromRecord(id, data, names);
        if (alert !== undefined) out.push(alert);
      }
    }
    return out;
  }

  async markAlertsDelivered(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const remove = this.#conn.statement('DELETE FROM alert_outbox WHERE alert_id = ?');
    this.#conn.transaction(() => {
      for (const id of ids) remove.run(id);
    });
  }

  #agentNames(): ReadonlyMap<string, string> {
    return new Map(this.#conn.statement('SELECT id, name FROM agents', 'raw').all() as [string, string][]);
  }
}
