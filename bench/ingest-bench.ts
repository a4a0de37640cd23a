/**
 * Analysis pipeline benchmark: file events per second through compare → known-hash verdict → rules → record
 * (chained history, baseline advanced) → alert, into SQLite, in batches of 500 as an agent would send them, for
 * 1 or many agents; with the p99 time of one batch. Run: node dist/bench/ingest-bench.js [--events N] [--agents N]
 * [--metadata-only] (changes that keep the file's digests) [--no-group] (one COMMIT per batch, as before group
 * commit) [--group-rows N] (a group's most rows, default 5,000) [--profile FILE] (a CPU profile of the main
 * thread while it ingests, setup and checks left out) [--postgres URL] (the same ingest into PostgreSQL, in a
 * schema of its own, dropped after) (`--floor [--no-history]`: the same rows written with nothing computed, see
 * runIngestFloor).
 *
 * Each agent's batches are numbered and applied as the manager applies them (`BatchTurns`, one transaction per
 * batch with its sequence); with many agents, each round's batches (one per agent) arrive together, as a fleet's
 * do, and with group commit they share COMMITs.
 */
import Database from 'better-sqlite3';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadRuleSet } from '../src/analysis/load-rule-set.js';
import { ingestObservations } from '../src/analysis/ingest-observations.js';
import { BUILTIN_RULES } from '../src/core/builtin-rules.js';
import { CHECK_ALL } from '../src/core/check-set.js';
import { encodeEventRecord } from '../src/core/event-record.js';
import { diffFileStates } from '../src/core/file-change.js';
import type { FileState } from '../src/core/file-state.js';
import { DEFAULT_KNOWN_HASH_POLICY } from '../src/core/known-hash-policy.js';
import type { Observation } from '../src/core/observation.js';
import { newCorrelationState } from '../src/core/rules/rule-set.js';
import { pathKey } from '../src/core/path-bytes.js';
import { BASELINE_COLUMNS, stateToRow } from '../src/storage/sqlite/baseline-rows.js';
import { SerialQueue } from '../src/core/serial-queue.js';
import { BatchTurns } from '../src/manager/batch-turns.js';
import { PostgresStore } from '../src/storage/postgres/postgres-store.js';
import { HistorySummaries } from '../src/storage/sqlite/history-summaries.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { WalCheckpointer } from '../src/storage/sqlite/wal-checkpointer.js';
import type { Store } from '../src/storage/store.js';
import pg from 'pg';

const BATCH = 500;

function state(i: number, version: number, contentVersion = version): FileState {
  const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0').slice(-len);
  return {
    // Changes arrive in scan (path) order, as an agent sends them: neighbours share pages.
    path: Buffer.from(`/srv/data/d${String(Math.floor(i / 1000)).padStart(5, '0')}/file-${String(i).padStart(8, '0')}.conf`),
    type: 'file',
    size: 100 + version,
    mode: 0o644,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtimeNs: 1_700_000_000_000_000_000n + BigInt(version),
    ctimeNs: 1_700_000_000_000_000_000n + BigInt(version),
    inode: 1000 + i,
    dev: 2049,
    nlink: 1,
    hashes: { md5: hex(i * 31 + contentVersion, 32), sha1: hex(i * 37 + contentVersion, 40), sha256: hex(i * 41 + contentVersion, 64) },
    issues: [],
  };
}

/** Runs the benchmark; the store lives in `dir` and is removed afterwards. */
export async function runIngestBench(options: {
  events: number;
  agents: number;
  dir?: string;
  /** false: the changes touch metadata only (mtime, size), the digests stay (a chmod, a touch, a rewrite in place). */
  contentChanges?: boolean;
  /** false: one COMMIT per batch (the manager before group commit). */
  groupCommit?: boolean;
  /** With group commit: its `maxRows` (default the store's, 5,000). */
  groupRows?: number;
  /** Ingest into this PostgreSQL instead (a schema of its own, dropped after). */
  postgresUrl?: string;
  /** Writes a CPU profile (`.cpuprofile`) of the ingest alone to this file. */
  profile?: string;
}): Promise<{
  eventsPerSecond: number;
  cpuEventsPerSecond: number;
  /** Per second of the main thread's CPU alone (Linux; the WAL checkpoint thread left out), when it can be read. */
  mainCpuEventsPerSecond?: number;
  p99BatchMs: number;
  startRssMb: number;
  rssMb: number;
}> {
  const dir = options.dir ?? join(tmpdir(), `custos-ingest-bench-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const schema = `custos_ingest_bench_${process.pid}`;
  const store: Store =
    options.postgresUrl === undefined
      ? SqliteStore.open(join(dir, 'ingest.db'), {
          backgroundCheckpoints: true,
          ...(options.groupCommit === false ? {} : { groupCommit: options.groupRows === undefined ? {} : { maxRows: options.groupRows } }),
        })
      : await PostgresStore.open(withSchema(options.postgresUrl, schema));
  const rules = loadRuleSet([]);
  const perAgent = Math.ceil(options.events / options.agents);
  const agents = Array.from({ length: options.agents }, (_, a) => ({ id: String(a + 1).padStart(3, '0'), name: `host${a + 1}` }));
  for (const agent of agents) {
    await store.upsertAgent(agent);
    // The baseline in slices, so building it does not inflate the memory the ingest is measured with.
    for (let from = 0; from < perAgent; from += 5000) {
      await store.commit({
        agentId: agent.id,
        upserts: Array.from({ length: Math.min(5000, perAgent - from) }, (_, i) => state(from + i, 0)),
        deletes: [],
        events: [],
      });
    }
    await store.markRootsScanned(agent.id, [Buffer.from('/srv')], new Date().toISOString());
  }
  const deps = {
    store,
    rules,
    correlation: newCorrelationState(),
    sinks: [],
    now: () => new Date(),
    newAlertId: (() => {
      let n = 0;
      return () => `bench.${n++}`;
    })(),
  };
  const batchMs: number[] = [];
  // As the manager applies batches: in the fleet-wide turn, each agent's in order, with group commit when the store has it.
  const turns = new BatchTurns(new SerialQueue(), store);
  // Resident memory while ingesting: at the start, and the highest seen after any batch.
  const startRss = process.memoryUsage.rss();
  let peakRss = startRss;
  let done = 0;
  const profiler = options.profile === undefined ? undefined : await startProfile();
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadCpuSeconds();
  const started = process.hrtime.bigint();
  for (let offset = 0, seq = 1; offset < perAgent; offset += BATCH, seq++) {
    const round = agents.map(async (agent) => {
      const observations: Observation[] = [];
      for (let i = offset; i < Math.min(perAgent, offset + BATCH); i++)
        observations.push({ path: state(i, 0).path, current: state(i, 1, options.contentChanges === false ? 0 : 1), checks: CHECK_ALL, inBaseline: true });
      const t = process.hrtime.bigint();
      const summary = await turns.run(agent.id, () =>
        ingestObservations(
          (async function* () {
            yield observations;
          })(),
          deps,
          {
            agent,
            mode: 'check',
            alertNewFiles: true,
            autoIgnore: { enabled: false, frequency: 3, timeframeMs: 3_600_000 },
            scannedRoots: [Buffer.from('/srv')],
            knownHashPolicy: DEFAULT_KNOWN_HASH_POLICY,
            host: agent.name,
            sequence: seq,
          },
        ),
      );
      batchMs.push(Number(process.hrtime.bigint() - t) / 1e6);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      done += summary.modified;
    });
    await Promise.all(round);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuSeconds = cpuSecondsSince(cpu);
  const mainCpuSeconds = mainCpu === undefined ? undefined : (mainThreadCpuSeconds() ?? mainCpu) - mainCpu;
  if (profiler !== undefined && options.profile !== undefined) writeFileSync(options.profile, JSON.stringify(await stopProfile(profiler)));
  const verify = await store.verifyChain();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  if (options.postgresUrl !== undefined) await dropSchema(options.postgresUrl, schema);
  if (!verify.ok || done !== perAgent * agents.length) throw new Error('ingest benchmark did not record what it sent');
  batchMs.sort((a, b) => a - b);
  return {
    eventsPerSecond: done / seconds,
    // Per second of this process's CPU (all its threads): on a loaded machine the wall time mostly measures the
    // wait for a core, the CPU time much less so.
    cpuEventsPerSecond: done / cpuSeconds,
    ...(mainCpuSeconds === undefined || mainCpuSeconds <= 0 ? {} : { mainCpuEventsPerSecond: done / mainCpuSeconds }),
    p99BatchMs: batchMs[Math.min(batchMs.length - 1, Math.floor(batchMs.length * 0.99))] ?? 0,
    startRssMb: startRss / 2 ** 20,
    rssMb: peakRss / 2 ** 20,
  };
}

/** Starts the V8 CPU profiler on this thread (the one that ingests; the checkpoint thread is left out). */
async function startProfile(): Promise<Session> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return session;
}

async function stopProfile(session: Session): Promise<unknown> {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  return profile;
}

/** The URL with Custos's `schema` parameter set. */
function withSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('schema', schema);
  return parsed.toString();
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * The floor the pipeline is measured against: the same rows written to the same schema by the same SQLite
 * (per event a history record of the pipeline's size with its chain hashes, an alert, a delivery-queue entry
 * taken off again, the baseline row updated, and the counters the store keeps per batch), in the same 500-event
 * transactions, with nothing computed: what the disk and SQLite allow on this machine. `history: false` leaves the
 * history record (and its counters) out: the difference is what the record costs to store.
 */
export async function runIngestFloor(options: {
  events: number;
  dir?: string;
  history?: boolean;
}): Promise<{ rowsPerSecond: number; cpuRowsPerSecond: number; recordBytes: number }> {
  const history = options.history !== false;
  const dir = options.dir ?? join(tmpdir(), `custos-ingest-floor-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const path = join(dir, 'floor.db');
  const store = SqliteStore.open(path, { backgroundCheckpoints: true });
  await store.upsertAgent({ id: '001', name: 'host1' });
  await store.commit({ agentId: '001', upserts: Array.from({ length: options.events }, (_, i) => state(i, 0)), deletes: [], events: [] });
  // What one pipeline event stores, computed once: the floor only writes.
  const sample = state(0, 1);
  const change = diffFileStates(state(0, 0), sample, CHECK_ALL);
  if (change === undefined) throw new Error('floor sample must differ');
  const data = encodeEventRecord({
    agentId: '001',
    timestamp: new Date().toISOString(),
    change,
    verdict: { verdict: 'unknown' },
    rule: BUILTIN_RULES.modified,
    outcome: 'alerted',
    alertId: '1795860000.0000000000',
  });
  const row = stateToRow(sample);
  await store.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  db.pragma('wal_autocheckpoint = 16384');
  const checkpointer = new WalCheckpointer(path);
  const insertEvent = db.prepare('INSERT INTO events (agent_id, ts, kind, outcome, path_key, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const insertAlert = db.prepare('INSERT INTO alerts (id, event_id, agent_id, ts, rule_id, level) VALUES (?, ?, ?, ?, ?, ?)');
  const queue = db.prepare('INSERT INTO alert_outbox (alert_id, agent_alert) VALUES (?, 0)');
  const dequeue = db.prepare('DELETE FROM alert_outbox WHERE alert_id = ?');
  const update = db.prepare(
    `UPDATE baseline SET ${BASELINE_COLUMNS.slice(1)
      .map((c) => `${c} = ?`)
      .join(', ')} WHERE agent_id = ? AND path_key = ?`,
  );
  const keys = Array.from({ length: options.events }, (_, i) => pathKey(state(i, 0).path));
  const hash = 'e'.repeat(64);
  const counters = new HistorySummaries(db);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < options.events; offset += BATCH) {
    const end = Math.min(options.events, offset + BATCH);
    db.transaction(() => {
      let firstEvent: number | bigint | undefined;
      let lastEvent: number | bigint = 0;
      let firstAlert: number | bigint | undefined;
      let lastAlert: number | bigint = 0;
      for (let i = offset; i < end; i++) {
        const ts = new Date(1_795_860_000_000 + i).toISOString();
        const id = history ? insertEvent.run('001', ts, 'modified', 'alerted', keys[i], data, hash, hash).lastInsertRowid : i + 1;
        firstEvent ??= id;
        lastEvent = id;
        const alertId = `1795860000.${i.toString(16).padStart(10, '0')}`;
        lastAlert = insertAlert.run(alertId, id, '001', ts, 550, 7).lastInsertRowid;
        firstAlert ??= lastAlert;
        queue.run(alertId);
        update.run(...row.slice(1), '001', keys[i]);
      }
      if (history && firstEvent !== undefined) counters.recordsAdded(firstEvent, lastEvent);
      if (firstAlert !== undefined) counters.fileAlertsAdded(firstAlert, lastAlert);
    })();
    db.transaction(() => {
      for (let i = offset; i < end; i++) dequeue.run(`1795860000.${i.toString(16).padStart(10, '0')}`);
    })();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuSeconds = cpuSecondsSince(cpu);
  await checkpointer.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { rowsPerSecond: options.events / seconds, cpuRowsPerSecond: options.events / cpuSeconds, recordBytes: Buffer.byteLength(data) + 2 * hash.length };
}

/**
 * CPU seconds (user and system) of this process's main thread so far, from /proc (clock ticks, 10 ms): the thread
 * that ingests, without the checkpoint thread, whose work the wall time does not wait for. Undefined off Linux.
 */
function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // The fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user and system, every thread of the process) since `from`. */
function cpuSecondsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const arg = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(name);
    return i < 0 ? fallback : Number(process.argv[i + 1]);
  };
  if (process.argv.includes('--floor')) {
    const f = await runIngestFloor({ events: arg('--events', 100_000), history: !process.argv.includes('--no-history') });
    if (process.argv.includes('--json')) console.log(JSON.stringify(f));
    else console.log(`SQLite floor: ${Math.round(f.rowsPerSecond)} events/s (history record ${f.recordBytes} bytes)`);
    process.exit(0);
  }
  const pgAt = process.argv.indexOf('--postgres');
  const r = await runIngestBench({
    events: arg('--events', 100_000),
    agents: arg('--agents', 1),
    contentChanges: !process.argv.includes('--metadata-only'),
    groupCommit: !process.argv.includes('--no-group'),
    ...(process.argv.includes('--group-rows') ? { groupRows: arg('--group-rows', 5000) } : {}),
    ...(process.argv.includes('--profile') ? { profile: process.argv[process.argv.indexOf('--profile') + 1] ?? 'ingest.cpuprofile' } : {}),
    ...(pgAt < 0 ? {} : { postgresUrl: process.argv[pgAt + 1] ?? 'postgres://postgres@127.0.0.1:5432/test' }),
  });
  if (process.argv.includes('--json')) console.log(JSON.stringify(r));
  else
    console.log(
      `${Math.round(r.eventsPerSecond)} events/s, p99 batch ${r.p99BatchMs.toFixed(1)} ms, RSS ${r.startRssMb.toFixed(0)} MB at the start, ${r.rssMb.toFixed(0)} MB at most while ingesting`,
    );
}
