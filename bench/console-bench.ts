/**
 * The console's pages at fleet size: a SQLite store of A agents (1,000) with N stored alerts (1 million), each with
 * its history record, 30% of them acknowledged, over the last 14 days, and a baseline of F files per agent. Measures
 * the fleet overview's aggregates (open alerts by level per agent, alerts over time, most changed paths), the alert
 * list and fleet search as the API runs them (SqliteConsoleQueries), as medians; the aggregates against the same
 * question asked of the alert and history tables directly (what the console did before its summary tables).
 * Prints one JSON line.
 *
 *   node dist/bench/console-bench.js [--alerts 1000000] [--agents 1000] [--files 100] [--dir DIR] [--runs 5] [--json]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pathKey } from '../src/core/path-bytes.js';
import { HistorySummaries } from '../src/storage/sqlite/history-summaries.js';
import { SqliteConsoleQueries } from '../src/storage/sqlite/sqlite-console-queries.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const alerts = Number(option('--alerts') ?? 1_000_000);
const agents = Number(option('--agents') ?? 1000);
const files = Number(option('--files') ?? 100);
const runs = Number(option('--runs') ?? 5);
const dir = join(option('--dir') ?? tmpdir(), 'custos-bench-console');
const DAY = 86_400_000;
// A fixed clock, so a cached store built by an earlier run answers the same windows.
const NOW = Date.parse('2026-11-30T00:00:00.000Z');
const LEVELS = [3, 5, 7, 7, 7, 10, 12] as const;
// The path each agent changes most often: a few hot files and a long tail, as configuration churn looks.
const PATHS_PER_AGENT = 400;

/** A deterministic generator, so two runs build the same store. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const agentId = (a: number): string => String(a + 1).padStart(3, '0');
const hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Builds the store once (kept in `dir` for the next run, marked complete at the end). */
async function build(path: string): Promise<void> {
  const marker = `${path}.complete`;
  if (existsSync(marker)) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The store's own migrations make the schema, its triggers and indexes included: rows land as ingest lands them.
  await SqliteStore.open(path).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const next = random(42);
  db.transaction(() => {
    const agent = db.prepare('INSERT INTO agents (id, name, last_seen) VALUES (?, ?, ?)');
    for (let a = 0; a < agents; a++) agent.run(agentId(a), `host-${a + 1}`, new Date(NOW - 60_000).toISOString());
    const baseline = db.prepare(
      `INSERT INTO baseline (agent_id, path_key, type, size, mode, uid, gid, uname, gname, mtime_ns, ctime_ns, inode, dev, nlink, md5, sha1, sha256, fingerprint)
       VALUES (?, ?, 'file', ?, ?, 0, 0, 'root', 'root', 0, 0, ?, 2049, 1, ?, ?, ?, 'x')`,
    );
    for (let a = 0; a < agents; a++) {
      for (let f = 0; f < files; f++) {
        // Every host has the same content at each path, but host 7 has another /usr/sbin/f3 (the odd host out).
        const content = a === 6 && f === 3 ? `odd-${f}` : `file-${f}`;
        const digest = hex(content);
        baseline.run(agentId(a), pathKey(Buffer.from(`/usr/sbin/f${f}`)), 1000 + f, 0o755, f + 1, digest.slice(0, 32), digest.slice(0, 40), digest);
      }
    }
  })();
  const event = db.prepare(`INSERT INTO events (agent_id, ts, kind, outcome, path_key, data, prev_hash, hash) VALUES (?, ?, 'file', 'alerted', ?, ?, '', '')`);
  const alert = db.prepare('INSERT INTO alerts (id, event_id, agent_id, ts, rule_id, level) VALUES (?, ?, ?, ?, ?, ?)');
  const ack = db.prepare("INSERT INTO console_acks (alert_id, acked_by, acked_at) VALUES (?, 'bench', ?)");
  // Oldest first, as they were raised; in transactions of 10,000 as batches would commit them.
  const times = Array.from({ length: alerts }, () => NOW - next() * 14 * DAY).sort((x, y) => x - y);
  const counters = new HistorySummaries(db);
  for (let start = 0; start < alerts; start += 10_000) {
    db.transaction(() => {
      let events: number[] = [];
      let alerted: number[] = [];
      const acks: [string, string][] = [];
      for (let i = start; i < Math.min(alerts, start + 10_000); i++) {
        const a = Math.floor(next() * agents);
        const path = `/etc/app/conf-${Math.floor(PATHS_PER_AGENT * next() ** 3)}`;
        const level = LEVELS[Math.floor(next() * LEVELS.length)]!;
        const ts = new Date(times[i]!).toISOString();
        const id = `${Math.floor(times[i]! / 1000)}.${i}`;
        const data = JSON.stringify({
          event: 'modified',
          path: Buffer.from(path).toString('base64'),
          rule: { id: 550, level, description: 'Integrity checksum changed.' },
          verdict: { verdict: 'unknown' },
        });
        const eventId = Number(event.run(agentId(a), ts, pathKey(Buffer.from(path)), data).lastInsertRowid);
        const alertRowid = Number(alert.run(id, eventId, agentId(a), ts, 550, level).lastInsertRowid);
        events = [events[0] ?? eventId, eventId];
        alerted = [alerted[0] ?? alertRowid, alertRowid];
        if (next() < 0.3) acks.push([id, ts]);
      }
      // As the store's writer does: the counters of the rows just written (HistorySummaries), then acknowledgements.
      if (events[0] !== undefined) counters.recordsAdded(events[0], events[1] ?? events[0]);
      if (alerted[0] !== undefined) counters.fileAlertsAdded(alerted[0], alerted[1] ?? alerted[0]);
      for (const [id, ts] of acks) ack.run(id, ts);
    })();
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  writeFileSync(marker, '');
}

/**
 * Median wall and CPU milliseconds of `runs` calls (after one warm-up call, which is not counted). CPU time is
 * reported too: on a loaded machine the wall time mostly measures the wait for a core.
 */
async function median(work: () => unknown): Promise<{ wall: number; cpu: number }> {
  await work();
  const walls: number[] = [];
  const cpus: number[] = [];
  for (let r = 0; r < runs; r++) {
    const cpu = process.cpuUsage();
    const started = process.hrtime.bigint();
    await work();
    walls.push(Number(process.hrtime.bigint() - started) / 1e6);
    const used = process.cpuUsage(cpu);
    cpus.push((used.user + used.system) / 1000);
  }
  const mid = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor((xs.length - 1) / 2)]!;
  return { wall: mid(walls), cpu: mid(cpus) };
}

/** The overview's questions asked of the alert and history tables directly: the reference for the summary tables. */
function direct(db: Database.Database) {
  return {
    openByAgent: () =>
      db
        .prepare(
          `SELECT agent_id, level, count(*) FROM (SELECT agent_id, level, id FROM alerts UNION ALL SELECT agent_id, level, id FROM agent_alerts) a
           WHERE NOT EXISTS (SELECT 1 FROM console_acks k WHERE k.alert_id = a.id) GROUP BY agent_id, level`,
        )
        .all(),
    overTime: (since: string, width: number) =>
      db
        .prepare(
          `SELECT substr(ts, 1, ?) AS bucket, level, count(*) FROM (SELECT ts, level FROM alerts WHERE ts >= ? UNION ALL SELECT ts, level FROM agent_alerts WHERE ts >= ?)
           GROUP BY bucket, level`,
        )
        .all(width, since, since),
    mostChanged: (since: string) =>
      db.prepare('SELECT agent_id, path_key, count(*) AS n FROM events WHERE ts >= ? GROUP BY agent_id, path_key ORDER BY n DESC LIMIT 10').all(since),
  };
}

async function main(): Promise<void> {
  const path = join(dir, `console-${agents}x${alerts}.db`);
  const started = Date.now();
  await build(path);
  const buildS = (Date.now() - started) / 1000;
  // Opening through the store brings a store built by an older version up to date (its summaries backfilled).
  await SqliteStore.open(path).close();
  const db = new Database(path, { readonly: true });
  const queries = new SqliteConsoleQueries(db);
  const ref = direct(db);
  // The overview's windows, as GET /api/fleet asks them: whole hours and days, the current one included.
  const day = new Date(NOW - 23 * 3_600_000).toISOString();
  const fortnight = new Date(NOW - 13 * DAY).toISOString();
  const measured: Record<string, () => unknown> = {
    openByAgent: () => queries.fleetAgents(NOW, 3_600_000),
    openByAgentDirect: ref.openByAgent,
    overTime24h: () => queries.alertsOverTime(day, 'hour'),
    overTime24hDirect: () => ref.overTime(day, 13),
    overTime14d: () => queries.alertsOverTime(fortnight, 'day'),
    overTime14dDirect: () => ref.overTime(fortnight, 10),
    mostChanged24h: () => queries.mostChangedPaths(day, 10),
    mostChanged24hDirect: () => ref.mostChanged(day),
    mostChanged14d: () => queries.mostChangedPaths(fortnight, 10),
    mostChanged14dDirect: () => ref.mostChanged(fortnight),
    alertPage: () => queries.listAlerts({ status: 'open', limit: 50 }),
    alertPageAgent: () => queries.listAlerts({ status: 'open', limit: 50, agentId: agentId(500 % agents), minLevel: 7 }),
    pathGroups: () => queries.contentGroupsAt(Buffer.from('/usr/sbin/f3'), { limit: 20, offset: 0, hostLimit: 50 }),
    digestHosts: () => queries.hostsWithDigest('sha256', hex('file-5'), 100),
  };
  const figures: Record<string, number> = { buildS };
  for (const [name, work] of Object.entries(measured)) {
    const m = await median(work);
    figures[`${name}Ms`] = m.wall;
    figures[`${name}CpuMs`] = m.cpu;
  }
  db.close();
  process.stdout.write(`${JSON.stringify({ agents, alerts, files, figures })}\n`);
}

await main();
