import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { pathKey } from '../../core/path-bytes.js';
import { overviewSample } from '../../../test/support/overview-sample.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { HistorySummaries } from './history-summaries.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { SqliteConsoleQueries } from './sqlite-console-queries.js';
import { SqliteStore } from './sqlite-store.js';

const HOUR = 3_600_000;
const NOW = Date.now();

/**
 * Writes `count` alerts (with their history records), agent alerts and acknowledgements over the last 16 days, as
 * the store's writer does: rows, then (once the store has them) the counters of what it wrote, then the
 * acknowledgements. `summaries: false`: a store from before the counters existed.
 */
function fill(db: Database.Database, count: number, seed: number, prefix: string, summaries = true): void {
  const event = db.prepare(
    "INSERT INTO events (agent_id, ts, kind, outcome, path_key, data, prev_hash, hash) VALUES (?, ?, 'file', 'alerted', ?, '{}', '', '')",
  );
  const alert = db.prepare('INSERT INTO alerts (id, event_id, agent_id, ts, rule_id, level) VALUES (?, ?, ?, ?, 550, ?)');
  const agentAlert = db.prepare("INSERT INTO agent_alerts (id, agent_id, ts, rule_id, level, json) VALUES (?, ?, ?, 571, ?, '{}')");
  const ack = db.prepare("INSERT INTO console_acks (alert_id, acked_by, acked_at) VALUES (?, 'alice', '2026-01-01T00:00:00.000Z')");
  const counters = summaries ? new HistorySummaries(db) : undefined;
  db.transaction(() => {
    for (const id of ['001', '002', '003']) db.prepare("INSERT OR IGNORE INTO agents (id, name) VALUES (?, 'host')").run(id);
    const sample = [...overviewSample(count, seed, prefix, NOW)];
    const events: number[] = [];
    const alerts: number[] = [];
    for (const a of sample) {
      if (a.pathKey === undefined) agentAlert.run(a.id, a.agentId, a.ts, a.level);
      else {
        const eventId = Number(event.run(a.agentId, a.ts, a.pathKey).lastInsertRowid);
        events.push(eventId);
        if (a.alerted) alerts.push(Number(alert.run(a.id, eventId, a.agentId, a.ts, a.level).lastInsertRowid));
      }
    }
    if (events.length > 0) counters?.recordsAdded(Math.min(...events), Math.max(...events));
    if (alerts.length > 0) counters?.fileAlertsAdded(Math.min(...alerts), Math.max(...alerts));
    for (const a of sample) if (a.acked) ack.run(a.id);
  })();
}

/** The same questions asked of the alert and history tables directly. */
function direct(db: Database.Database) {
  return {
    open: () =>
      db
        .prepare(
          `SELECT agent_id, level, count(*) AS n FROM (SELECT agent_id, level, id FROM alerts UNION ALL SELECT agent_id, level, id FROM agent_alerts) a
           WHERE NOT EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id) GROUP BY 1, 2 ORDER BY 1, 2`,
        )
        .all(),
    overTime: (since: string, width: number) =>
      db
        .prepare(
          `SELECT substr(ts, 1, ?) AS bucket, level, count(*) AS count FROM (SELECT ts, level FROM alerts WHERE ts >= ? UNION ALL SELECT ts, level FROM agent_alerts WHERE ts >= ?)
           GROUP BY 1, 2 ORDER BY 1, 2`,
        )
        .all(width, since, since),
    mostChanged: (since: string) =>
      (
        db
          .prepare('SELECT agent_id, path_key, count(*) AS n FROM events WHERE ts >= ? GROUP BY 1, 2 ORDER BY n DESC, agent_id, path_key LIMIT 8')
          .all(since) as { agent_id: string; path_key: Buffer; n: number }[]
      ).map((r) => [r.agent_id, r.path_key.toString('hex'), r.n]),
  };
}

async function assertSameAnswers(path: string): Promise<void> {
  const db = new Database(path, { readonly: true });
  const queries = new SqliteConsoleQueries(db);
  const ref = direct(db);
  const open = (await queries.fleetAgents(NOW, HOUR)).flatMap((a) =>
    Object.entries(a.openAlerts).map(([level, n]) => ({ agent_id: a.id, level: Number(level), n })),
  );
  assert.deepEqual(open, ref.open());
  // Windows that start on, just after and just before hour and day edges, and in the middle of an hour.
  const starts = [24 * HOUR, 14 * 24 * HOUR, 36 * HOUR, 47.5 * HOUR, 3 * 24 * HOUR + 1].map((age) => NOW - age);
  starts.push(
    Math.floor((NOW - 24 * HOUR) / HOUR) * HOUR,
    Math.floor((NOW - 5 * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR,
    Math.floor((NOW - 30 * HOUR) / HOUR) * HOUR + 1,
  );
  for (const start of starts) {
    const since = new Date(start).toISOString();
    assert.deepEqual(await queries.alertsOverTime(since, 'hour'), ref.overTime(since, 13), `hours since ${since}`);
    assert.deepEqual(await queries.alertsOverTime(since, 'day'), ref.overTime(since, 10), `days since ${since}`);
    const changed = (await queries.mostChangedPaths(since, 8)).map((c) => [c.agentId, pathKey(c.path).toString('hex'), c.changes]);
    assert.deepEqual(changed, ref.mostChanged(since), `most changed since ${since}`);
  }
  db.close();
}

describe('fleet overview summaries (SQLite)', () => {
  const dir = tempDir('custos-overview-');

  it('answer exactly what the alert and history tables say, as alerts and acknowledgements arrive', async () => {
    const path = join(dir, 'live.db');
    await SqliteStore.open(path).close();
    const db = new Database(path);
    fill(db, 3000, 7, 'a');
    db.close();
    await assertSameAnswers(path);
  });

  it('are filled from the alerts already stored when a store is brought up to date', async () => {
    const path = join(dir, 'old.db');
    // A store as the version before the summaries left it, with alerts in it.
    const before = SQLITE_MIGRATIONS.findIndex((m) => m.includes('CREATE TABLE alert_open_counts'));
    const db = new Database(path);
    for (const migration of SQLITE_MIGRATIONS.slice(0, before)) db.exec(migration);
    db.pragma(`user_version = ${before}`);
    fill(db, 2000, 11, 'b', false);
    db.close();
    await SqliteStore.open(path).close();
    await assertSameAnswers(path);
    // And they keep counting what arrives after.
    const again = new Database(path);
    fill(again, 500, 13, 'c');
    again.close();
    await assertSameAnswers(path);
  });
});
