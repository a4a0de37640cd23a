import type Database from 'better-sqlite3';

/**
 * The counters kept beside the history and the file alerts (the console's fleet overview and the per-agent quota):
 * `path_change_days` and `path_change_hours` (records per path and day or hour), `agent_usage` (history records and
 * their bytes), `alert_open_counts` and `alert_hours` (file alerts per agent and level, per hour and level).
 *
 * They were kept by triggers, row by row: up to five upserts and a DELETE per record, which cost more than writing
 * the record itself (measured on the ingest floor, 60,000 events in 500-event transactions: 1.65x as many events
 * per CPU second with the counts added per batch; docs/performance.md, "Issue 17"). Now the writer adds each batch's counts in the batch's transaction, with one statement
 * per counter over the rows it has just written (by id range: one connection writes, so a batch's ids follow each
 * other), and drops the hours older than two days once per batch instead of once per record. Whoever writes
 * `events` or `alerts` rows must call these in the same transaction (the repositories do; so do the tests and
 * benchmarks that write rows directly).
 */
export class HistorySummaries {
  readonly #days: Database.Statement;
  readonly #hours: Database.Statement;
  readonly #prune: Database.Statement;
  readonly #usage: Database.Statement;
  readonly #open: Database.Statement;
  readonly #alertHours: Database.Statement;

  constructor(db: Database.Database) {
    // `WHERE true`: SQLite's grammar needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
    this.#days = db.prepare(
      `INSERT INTO path_change_days (day, agent_id, path_key, changes)
       SELECT substr(ts, 1, 10), agent_id, path_key, count(*) FROM events WHERE id BETWEEN ? AND ? GROUP BY 1, 2, 3
       ON CONFLICT (day, agent_id, path_key) DO UPDATE SET changes = changes + excluded.changes`,
    );
    this.#hours = db.prepare(
      `INSERT INTO path_change_hours (hour, agent_id, path_key, changes)
       SELECT substr(ts, 1, 13), agent_id, path_key, count(*) FROM events WHERE id BETWEEN ? AND ? GROUP BY 1, 2, 3
       ON CONFLICT (hour, agent_id, path_key) DO UPDATE SET changes = changes + excluded.changes`,
    );
    // By the manager's clock, not the records': an agent whose clock runs ahead must not empty the table.
    this.#prune = db.prepare(`DELETE FROM path_change_hours WHERE hour < strftime('%Y-%m-%dT%H', 'now', '-2 days')`);
    this.#usage = db.prepare(
      `INSERT INTO agent_usage (agent_id, history_records, history_bytes)
       SELECT agent_id, count(*), sum(length(data)) FROM events WHERE id BETWEEN ? AND ? GROUP BY agent_id
       ON CONFLICT (agent_id) DO UPDATE SET history_records = history_records + excluded.history_records, history_bytes = history_bytes + excluded.history_bytes`,
    );
    this.#open = db.prepare(
      `INSERT INTO alert_open_counts (agent_id, level, open)
       SELECT agent_id, level, count(*) FROM alerts WHERE rowid BETWEEN ? AND ? GROUP BY 1, 2
       ON CONFLICT (agent_id, level) DO UPDATE SET open = open + excluded.open`,
    );
    this.#alertHours = db.prepare(
      `INSERT INTO alert_hours (hour, level, alerts)
       SELECT substr(ts, 1, 13), level, count(*) FROM alerts WHERE rowid BETWEEN ? AND ? GROUP BY 1, 2
       ON CONFLICT (hour, level) DO UPDATE SET alerts = alerts + excluded.alerts`,
    );
  }

  /** Counts the history records with ids `first`..`last` (just written, in the caller's transaction). */
  recordsAdded(first: number | bigint, last: number | bigint): void {
    this.#days.run(first, last);
    this.#hours.run(first, last);
    this.#prune.run();
    this.#usage.run(first, last);
  }

  /** Counts the file alerts with rowids `first`..`last` (just written, in the caller's transaction). */
  fileAlertsAdded(first: number | bigint, last: number | bigint): void {
    this.#open.run(first, last);
    this.#alertHours.run(first, last);
  }
}
