import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pathKey } from '../../core/path-bytes.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../../../test/support/postgres-test-url.js';
import { overviewSample } from '../../../test/support/overview-sample.js';
import { PostgresConsoleQueries } from './console-queries.js';
import { PostgresStore } from './postgres-store.js';

const HOUR = 3_600_000;
const NOW = Date.now();

/** Writes alerts (with their history records), agent alerts and acknowledgements over the last 16 days, through the triggers. */
async function fill(store: PostgresStore, count: number, seed: number, prefix: string): Promise<void> {
  await store.database.transaction(async (q) => {
    for (const id of ['001', '002', '003']) await q.query("INSERT INTO agents (id, name) VALUES ($1, 'host') ON CONFLICT DO NOTHING", [id]);
    for (const a of overviewSample(count, seed, prefix, NOW)) {
      if (a.pathKey === undefined) {
        await q.query("INSERT INTO agent_alerts (id, agent_id, ts, rule_id, level, json) VALUES ($1, $2, $3, 571, $4, '{}')", [a.id, a.agentId, a.ts, a.level]);
      } else {
        const event = await q.query<{ id: string }>(
          "INSERT INTO events (agent_id, ts, kind, outcome, path_key, data, prev_hash, hash) VALUES ($1, $2, 'file', 'alerted', $3, '{}', '', '') RETURNING id",
          [a.agentId, a.ts, a.pathKey],
        );
        if (a.alerted)
          await q.query('INSERT INTO alerts (id, event_id, agent_id, ts, rule_id, level) VALUES ($1, $2, $3, $4, 550, $5)', [
            a.id,
            event.rows[0]!.id,
            a.agentId,
            a.ts,
            a.level,
          ]);
      }
      // Acknowledged as the console does: only an alert that exists.
      if (a.acked)
        await q.query(
          "INSERT INTO console_acks (alert_id, acked_by, acked_at) SELECT $1, 'alice', 'x' WHERE EXISTS (SELECT 1 FROM alerts WHERE id = $1) OR EXISTS (SELECT 1 FROM agent_alerts WHERE id = $1)",
          [a.id],
        );
    }
  });
}

describe('fleet overview summaries (PostgreSQL)', () => {
  const schema = testSchemaName('custos_overview');
  let store: PostgresStore;
  before(async () => {
    store = await PostgresStore.open(schemaUrl(schema));
  });
  after(async () => {
    await store.close();
    await dropSchemas([schema]);
  });

  it('answer exactly what the alert and history tables say, at any window start', async () => {
    await fill(store, 1500, 7, 'a');
    const queries = new PostgresConsoleQueries(store.database);
    const db = store.database;
    const open = (await queries.fleetAgents(NOW, HOUR)).flatMap((a) => Object.entries(a.openAlerts).map(([level, n]) => `${a.id}/${level}/${n}`));
    const directOpen = (
      await db.query<{ agent_id: string; level: number; n: string }>(
        `SELECT agent_id, level, count(*) AS n FROM (SELECT agent_id, level, id FROM alerts UNION ALL SELECT agent_id, level, id FROM agent_alerts) a
         WHERE NOT EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id) GROUP BY 1, 2 ORDER BY 1, 2`,
      )
    ).rows.map((r) => `${r.agent_id}/${r.level}/${r.n}`);
    assert.deepEqual(open, directOpen);
    const starts = [24 * HOUR, 14 * 24 * HOUR, 36 * HOUR, 47.5 * HOUR, 3 * 24 * HOUR + 1].map((age) => NOW - age);
    starts.push(
      Math.floor((NOW - 23 * HOUR) / HOUR) * HOUR,
      Math.floor((NOW - 13 * 24 * HOUR) / (24 * HOUR)) * 24 * HOUR,
      Math.floor((NOW - 30 * HOUR) / HOUR) * HOUR + 1,
    );
    for (const start of starts) {
      const since = new Date(start).toISOString();
      for (const [bucket, width] of [
        ['hour', 13],
        ['day', 10],
      ] as const) {
        const direct = (
          await db.query<{ bucket: string; level: number; count: string }>(
            `SELECT substr(ts, 1, $2) AS bucket, level, count(*) AS count FROM (SELECT ts, level FROM alerts WHERE ts >= $1 UNION ALL SELECT ts, level FROM agent_alerts WHERE ts >= $1) x
             GROUP BY 1, 2 ORDER BY 1, 2`,
            [since, width],
          )
        ).rows.map((r) => ({ bucket: r.bucket, level: r.level, count: Number(r.count) }));
        assert.deepEqual(await queries.alertsOverTime(since, bucket), direct, `${bucket}s since ${since}`);
      }
      const changed = (await queries.mostChangedPaths(since, 8)).map((c) => `${c.agentId}/${pathKey(c.path).toString('hex')}/${c.changes}`);
      const direct = (
        await db.query<{ agent_id: string; path_key: Buffer; n: string }>(
          'SELECT agent_id, path_key, count(*) AS n FROM events WHERE ts >= $1 GROUP BY 1, 2 ORDER BY n DESC, agent_id COLLATE "C", path_key LIMIT 8',
          [since],
        )
      ).rows.map((r) => `${r.agent_id}/${r.path_key.toString('hex')}/${r.n}`);
      assert.deepEqual(changed, direct, `most changed since ${since}`);
    }
  });
});
