import type Database from 'better-sqlite3';
import { pathFromKey } from '../../core/path-bytes.js';
import type { AlertBucket, ChangedPath } from '../console-queries.js';
import { PATH_HOURS_KEPT_MS, windowEdges } from '../window-edges.js';

/** The fleet overview's aggregates over the summary tables the alert-summaries migration keeps. */
export class SqliteFleetOverview {
  readonly #db: Database.Database;

  /** `db`: a connection to a store whose schema includes the alert-summaries migration. */
  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Unacknowledged alerts per agent and level. */
  openAlertCounts(): readonly { agent_id: string; level: number; n: number }[] {
    return this.#db.prepare('SELECT agent_id, level, open AS n FROM alert_open_counts WHERE open > 0').all() as {
      agent_id: string;
      level: number;
      n: number;
    }[];
  }

  /** Alerts per hour or day bucket and level, from `since`. */
  alertsOverTime(since: string, bucket: 'hour' | 'day'): readonly AlertBucket[] {
    const edges = windowEdges(since);
    return this.#db
      .prepare(
        `SELECT substr(bucket, 1, @width) AS bucket, level, sum(n) AS count FROM (
           SELECT substr(ts, 1, 13) AS bucket, level, count(*) AS n FROM alerts WHERE ts >= @since AND ts < @hourEnd GROUP BY 1, 2
           UNION ALL SELECT substr(ts, 1, 13), level, count(*) FROM agent_alerts WHERE ts >= @since AND ts < @hourEnd GROUP BY 1, 2
           UNION ALL SELECT hour, level, alerts FROM alert_hours WHERE hour >= substr(@hourEnd, 1, 13)
         ) GROUP BY 1, 2 ORDER BY 1, 2`,
      )
      .all({ width: bucket === 'hour' ? 13 : 10, ...edges }) as AlertBucket[];
  }

  /**
   * The paths with the most history records since `since`, most first. `nowMs`: the manager's clock, which the hour
   * summaries are kept by (two days of them).
   */
  mostChangedPaths(since: string, limit: number, nowMs: number): readonly ChangedPath[] {
    const edges = windowEdges(since);
    // Whole hours up to the first whole day come from the hour summaries while they are kept; a window that starts
    // before them (14 days) counts its first partial day from the history itself (its time index: a day of it).
    const hoursKept = Date.parse(edges.hourEnd) >= nowMs - PATH_HOURS_KEPT_MS;
    const rawEnd = hoursKept ? edges.hourEnd : edges.dayEnd;
    // Only the parts the window has: one aligned to whole days (as the overview asks) is one aggregate of the day
    // summaries, with no union to materialise.
    const parts = [
      ...(edges.since < rawEnd ? ['SELECT agent_id, path_key, count(*) AS n FROM events WHERE ts >= @since AND ts < @rawEnd GROUP BY agent_id, path_key'] : []),
      ...(rawEnd < edges.dayEnd
        ? [
            'SELECT agent_id, path_key, sum(changes) AS n FROM path_change_hours WHERE hour >= substr(@rawEnd, 1, 13) AND hour < substr(@dayEnd, 1, 13) GROUP BY agent_id, path_key',
          ]
        : []),
      'SELECT agent_id, path_key, sum(changes) AS n FROM path_change_days WHERE day >= substr(@dayEnd, 1, 10) GROUP BY agent_id, path_key',
    ];
    const order = 'ORDER BY n DESC, agent_id, path_key LIMIT @limit';
    const sql =
      parts.length === 1
        ? `${parts[0]!} ${order}`
        : `SELECT agent_id, path_key, sum(n) AS n FROM (${parts.join(' UNION ALL ')}) GROUP BY agent_id, path_key ${order}`;
    const rows = this.#db.prepare(sql).all({ since: edges.since, rawEnd, dayEnd: edges.dayEnd, limit }) as { agent_id: string; path_key: Buffer; n: number }[];
    return rows.map((r) => ({ agentId: r.agent_id, path: pathFromKey(r.path_key), changes: r.n }));
  }
}
