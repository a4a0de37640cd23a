/**
 * Fleet load test: one real manager process, N simulated agents over loopback with real mutual TLS. Each agent
 * enrolls (token, CSR, certificate), sends its first full scan, then reports file changes in batches at an offered
 * rate, level after level. Reports, per level, the sustained events/s the manager applied, the p50/p99 latency of
 * a batch (request to acknowledgement, as the agent sees it) and the manager's memory.
 *
 * Run: npm run build && node dist/bench/fleet-load.js [--agents 1000] [--files 100] [--seconds 30]
 *        [--rates 1000,3000,6000,12000] [--interval 5] [--json FILE] [--profile DIR] [--store postgres://…]
 *        [--engines sqlite,postgres] [--managers 1,2]
 *
 * One run measures every scenario on the same machine and prints them side by side: SQLite with one manager, and
 * PostgreSQL (--store, default the machine's own, in a schema of its own dropped after) with one and with two
 * managers sharing it, agents spread over them.
 *
 * The driver and the manager share the machine's cores: on a 2-core host the figures are a floor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { enrollAgent, loadAgentIdentity } from '../src/agent/enroll-agent.js';
import { callManager, type ManagerEndpoint } from '../src/agent/manager-client.js';
import { CHECK_ALL } from '../src/core/check-set.js';
import type { FileState } from '../src/core/file-state.js';
import { pathKey } from '../src/core/path-bytes.js';
import { StateDigest } from '../src/core/state-digest.js';
import { storedFingerprint } from '../src/core/state-fingerprint.js';
import { createEnrollmentToken } from '../src/manager/enrollment-token.js';
import { ensureManagerPki } from '../src/manager/manager-pki.js';
import { encodeObservation } from '../src/protocol/wire.js';
import pg from 'pg';
import { PostgresStore } from '../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';

const CUSTOS = fileURLToPath(new URL('../../bin/custos.js', import.meta.url));

interface SimAgent {
  readonly id: string;
  readonly endpoint: ManagerEndpoint;
  seq: number;
  version: number;
  cursor: number;
}

interface LevelResult {
  readonly offeredEventsPerSecond: number;
  readonly eventsPerSecond: number;
  readonly batches: number;
  readonly failures: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly managerRssMb: number;
}

function fileState(index: number, version: number): FileState {
  const hex = (n: number, len: number): string => n.toString(16).padStart(len, '0').slice(-len);
  return {
    path: Buffer.from(`/srv/app/conf/f${String(index).padStart(5, '0')}.conf`),
    type: 'file',
    size: 200 + version,
    mode: 0o644,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtimeNs: 1_790_000_000_000_000_000n + BigInt(version) * 1_000_000_000n,
    ctimeNs: 1_790_000_000_000_000_000n + BigInt(version) * 1_000_000_000n,
    inode: 5000 + index,
    dev: 2049,
    nlink: 1,
    hashes: { md5: hex(index * 7919 + version, 32), sha1: hex(index * 104_729 + version, 40), sha256: hex(index * 1_299_709 + version, 64) },
    issues: [],
  };
}

/** Peak and current resident memory of a process, from /proc. */
function memoryMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? 0);
}

async function pool<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i] as T, i);
      }
    }),
  );
}

async function startManager(data: string, profileDir?: string, storeUrl?: string): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  const profile = profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const child = spawn(
    process.execPath,
    [...profile, CUSTOS, 'manager', 'start', '--data', data, '--listen', '127.0.0.1:0', ...(storeUrl === undefined ? [] : ['--store', storeUrl])],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const log: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buffer += chunk;
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        log.push(line);
        if (log.length > 200) log.shift();
        try {
          const parsed = JSON.parse(line) as { msg?: string; port?: number };
          if (parsed.msg === 'manager listening' && parsed.port !== undefined) resolve(parsed.port);
        } catch {
          // not JSON: kept in the log
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`the manager exited (${code}):\n${log.join('\n')}`)));
  });
  return { child, url: `https://127.0.0.1:${port}`, log };
}

/** The URL with Custos's `schema` parameter set. */
function withSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('schema', schema);
  return parsed.toString();
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const parsed = new URL(url);
  parsed.searchParams.delete('schema');
  const client = new pg.Client({ connectionString: parsed.toString() });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
}

interface LoadOptions {
  readonly agentCount: number;
  readonly files: number;
  readonly seconds: number;
  readonly intervalS: number;
  readonly rates: readonly number[];
  readonly profile?: string;
  /** The PostgreSQL to use for the postgres scenarios (a schema of its own is made in it and dropped after). */
  readonly postgresUrl: string;
}

/** One configuration measured: an engine, and how many managers share it (agents spread over them). */
interface Scenario {
  readonly engine: 'sqlite' | 'postgres';
  readonly managers: number;
}

interface ScenarioResult {
  readonly engine: string;
  readonly managers: number;
  readonly baselineEntriesPerSecond: number;
  readonly levels: readonly LevelResult[];
  /** The managers' memory high-water marks, summed. */
  readonly managerHighWaterMb: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      agents: { type: 'string', default: '1000' },
      files: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '30' },
      rates: { type: 'string', default: '1000,3000,6000,12000' },
      interval: { type: 'string', default: '5' },
      json: { type: 'string' },
      /** Writes a V8 CPU profile of the manager into this directory. */
      profile: { type: 'string' },
      /** The PostgreSQL for the postgres scenarios (postgres://…): a schema of its own is made in it and dropped after. */
      store: { type: 'string', default: process.env.CUSTOS_LOAD_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test' },
      /** Which engines to measure, in one run (each with the same agents, rates and machine). */
      engines: { type: 'string', default: 'sqlite,postgres' },
      /** How many managers share the PostgreSQL store, one scenario each (SQLite always has one). */
      managers: { type: 'string', default: '1,2' },
    },
  });
  const options: LoadOptions = {
    agentCount: Number(values.agents),
    files: Number(values.files),
    seconds: Number(values.seconds),
    intervalS: Number(values.interval),
    rates: values.rates.split(',').map(Number),
    ...(values.profile === undefined ? {} : { profile: values.profile }),
    postgresUrl: values.store,
  };
  const scenarios: Scenario[] = [];
  for (const engine of values.engines.split(',')) {
    if (engine === 'sqlite') scenarios.push({ engine, managers: 1 });
    else if (engine === 'postgres') for (const n of values.managers.split(',').map(Number)) scenarios.push({ engine, managers: n });
    else throw new Error(`--engines: unknown engine ${engine} (sqlite, postgres)`);
  }
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) results.push(await runScenario(scenario, options));
  process.stdout.write('\nfleet-load summary (same machine, same run):\n');
  process.stdout.write('engine      managers  offered/s  sustained/s  p50 ms  p99 ms  failed  manager RSS peak MB\n');
  for (const r of results) {
    for (const l of r.levels) {
      process.stdout.write(
        `${r.engine.padEnd(10)}  ${String(r.managers).padStart(8)}  ${String(l.offeredEventsPerSecond).padStart(9)}  ${String(l.eventsPerSecond).padStart(11)}  ${String(l.p50Ms).padStart(6)}  ${String(l.p99Ms).padStart(6)}  ${String(l.failures).padStart(6)}  ${String(l.managerRssMb).padStart(19)}\n`,
      );
    }
  }
  if (values.json !== undefined)
    writeFileSync(
      values.json,
      `${JSON.stringify({ agents: options.agentCount, files: options.files, seconds: options.seconds, intervalS: options.intervalS, scenarios: results }, null, 2)}\n`,
    );
}

async function runScenario(scenario: Scenario, options: LoadOptions): Promise<ScenarioResult> {
  const { agentCount, files, seconds, intervalS, rates } = options;
  const root = join(tmpdir(), `custos-fleet-load-${process.pid}`);
  rmSync(root, { recursive: true, force: true });
  const dataDirs = Array.from({ length: scenario.managers }, (_, i) => join(root, `manager-${i}`));
  for (const data of dataDirs) {
    mkdirSync(data, { recursive: true, mode: 0o700 });
    writeFileSync(join(data, 'custos.yml'), 'manager:\n  silent_after: 1h\n');
  }
  const data = dataDirs[0] as string;
  const pki = await ensureManagerPki(data);
  // The other managers share the first one's CA (as `custos manager pki export|import` provisions it).
  for (const other of dataDirs.slice(1)) cpSync(join(data, 'pki'), join(other, 'pki'), { recursive: true });
  const tokens: string[] = [];
  const loadSchema = `custos_load_${process.pid}`;
  const storeUrl = scenario.engine === 'sqlite' ? undefined : withSchema(options.postgresUrl, loadSchema);
  const store = storeUrl === undefined ? SqliteStore.open(join(data, 'custos.db')) : await PostgresStore.open(storeUrl);
  for (let i = 0; i < agentCount; i++) tokens.push((await createEnrollmentToken(store, pki.caSha256, 3_600_000, new Date())).token);
  await store.close();

  const managers: { child: ChildProcess; url: string; log: string[] }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const m of managers) {
      m.child.kill('SIGTERM');
      await new Promise((resolve) => m.child.once('exit', resolve));
    }
  };
  try {
    for (const dir of dataDirs) managers.push(await startManager(dir, options.profile, storeUrl));
    const pids = managers.map((m) => m.child.pid ?? 0);
    process.stdout.write(
      `fleet-load: ${scenario.managers} manager(s) (pid ${pids.join(', ')}) on ${storeUrl === undefined ? 'SQLite' : 'PostgreSQL'}; ${agentCount} agents × ${files} files\n`,
    );
    const enrollStarted = Date.now();
    const agents: SimAgent[] = new Array<SimAgent>(agentCount);
    await pool(tokens, 4, async (token, i) => {
      const dir = join(root, `agent-${i}`);
      await enrollAgent({ managerUrl: (managers[i % managers.length] ?? managers[0])?.url ?? '', token, name: `sim-${i}`, dataDir: dir });
      const { identity, endpoint } = loadAgentIdentity(dir);
      agents[i] = { id: identity.agentId, endpoint, seq: 0, version: 0, cursor: 0 };
    });
    process.stdout.write(`fleet-load: enrolled ${agentCount} agents in ${((Date.now() - enrollStarted) / 1000).toFixed(1)} s\n`);

    // Each agent's first full scan: its baseline, built silently, checked by digest.
    const baselineStarted = Date.now();
    await pool(agents, 50, async (agent) => {
      const states = Array.from({ length: files }, (_, i) => fileState(i, 0));
      const digest = new StateDigest();
      for (const s of [...states].sort((a, b) => Buffer.compare(pathKey(a.path), pathKey(b.path)))) digest.add(pathKey(s.path), storedFingerprint(s));
      agent.seq = 1;
      const reply = await callManager(agent.endpoint, 'POST', '/v1/batches', {
        agentId: agent.id,
        seq: 1,
        scan: { id: 'baseline', full: true, first: true },
        observations: states.map((s) => encodeObservation({ path: s.path, current: s, checks: CHECK_ALL, inBaseline: false })),
        end: { id: 'baseline', full: true, digest: digest.hex(), entries: digest.entries, durationMs: 1 },
      });
      if (reply.status !== 200 || (reply.body as { resync?: boolean }).resync === true)
        throw new Error(`baseline batch refused: ${reply.status} ${reply.text}`);
    });
    const baselineS = (Date.now() - baselineStarted) / 1000;
    process.stdout.write(
      `fleet-load: ${agentCount * files} baseline entries in ${baselineS.toFixed(1)} s (${Math.round((agentCount * files) / baselineS)} entries/s)\n`,
    );

    const results: LevelResult[] = [];
    for (const rate of rates) {
      const perBatch = Math.max(1, Math.round((rate * intervalS) / agentCount));
      const latencies: number[] = [];
      let events = 0;
      let failures = 0;
      let peakRss = 0;
      const sampler = setInterval(() => {
        peakRss = Math.max(
          peakRss,
          pids.reduce((sum, p) => sum + memoryMb(p).rss, 0),
        );
      }, 250);
      const started = Date.now();
      const deadline = started + seconds * 1000;
      await Promise.all(
        agents.map(async (agent, i) => {
          // Spread the agents over the interval, then each sends one batch per interval.
          let due = started + (i / agentCount) * intervalS * 1000;
          while (due < deadline) {
            const wait = due - Date.now();
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
            agent.version++;
            const observations = [];
            for (let k = 0; k < perBatch; k++) {
              const index = agent.cursor++ % files;
              const s = fileState(index, agent.version);
              observations.push(encodeObservation({ path: s.path, current: s, checks: CHECK_ALL, inBaseline: true }));
            }
            const t = process.hrtime.bigint();
            try {
              const reply = await callManager(agent.endpoint, 'POST', '/v1/batches', { agentId: agent.id, seq: agent.seq + 1, observations }, 120_000);
              if (reply.status === 200) {
                agent.seq++;
                events += perBatch;
                latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
              } else failures++;
            } catch {
              failures++;
            }
            due += intervalS * 1000;
          }
        }),
      );
      clearInterval(sampler);
      const elapsed = (Date.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const result: LevelResult = {
        offeredEventsPerSecond: rate,
        eventsPerSecond: Math.round(events / elapsed),
        batches: latencies.length,
        failures,
        p50Ms: Math.round(percentile(latencies, 0.5)),
        p99Ms: Math.round(percentile(latencies, 0.99)),
        maxMs: Math.round(latencies.at(-1) ?? 0),
        managerRssMb: Math.round(peakRss),
      };
      results.push(result);
      process.stdout.write(
        `fleet-load: offered ${rate} events/s (${perBatch} per batch, every ${intervalS} s per agent): sustained ${result.eventsPerSecond} events/s over ${elapsed.toFixed(0)} s, ` +
          `batch p50 ${result.p50Ms} ms p99 ${result.p99Ms} ms max ${result.maxMs} ms, ${failures} failed, manager RSS peak ${result.managerRssMb} MB\n`,
      );
    }
    const memory = pids.map(memoryMb).reduce((a, b) => ({ rss: a.rss + b.rss, hwm: a.hwm + b.hwm }), { rss: 0, hwm: 0 });
    const metrics = (await callManager({ url: managers[0]?.url ?? '', ca: pki.caCert }, 'GET', '/metrics')).text;
    const ingest = /custos_batch_ingest_seconds\{quantile="0.99"\} ([\d.e-]+)/.exec(metrics)?.[1];
    process.stdout.write(
      `fleet-load: manager memory now ${Math.round(memory.rss)} MB, high-water ${Math.round(memory.hwm)} MB; manager-side p99 apply time ${ingest === undefined ? '?' : `${(Number(ingest) * 1000).toFixed(0)} ms`}\n`,
    );
    return {
      engine: scenario.engine,
      managers: scenario.managers,
      baselineEntriesPerSecond: Math.round((agentCount * files) / baselineS),
      levels: results,
      managerHighWaterMb: Math.round(memory.hwm),
    };
  } finally {
    await stopAll();
    rmSync(root, { recursive: true, force: true });
    if (storeUrl !== undefined) await dropSchema(options.postgresUrl, loadSchema);
  }
}

await main();
