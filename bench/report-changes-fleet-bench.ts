/**
 * report_changes in a fleet: one real manager and one real agent process over mutual TLS, with report_changes on
 * and off. Per mode: the wall time of the agent's scan that finds N new ~10 KB text files (content recorded on the
 * manager) and of the one that finds them all changed (diffs made on the manager), each from the agent's start to
 * the manager's acknowledgement of everything it sent; the manager's content database per file; and the latency of
 * a realtime change, from the write to its alert (with its diff when on) in the manager's alerts.json, as the
 * median and the highest of a series of single-file changes. Prints one JSON line.
 *
 *   node dist/bench/report-changes-fleet-bench.js [--files 10000] [--changes 20] [--dir DIR] [--json]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusPath, corpusText, writeCorpus } from './report-changes-corpus.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const files = Number(option('--files') ?? 10_000);
const changes = Number(option('--changes') ?? 20);
const work = join(option('--dir') ?? tmpdir(), 'custos-bench-report-changes-fleet');
const custosBin = fileURLToPath(new URL('../../bin/custos.js', import.meta.url));

interface LogLine {
  readonly msg: string;
  readonly [key: string]: unknown;
}

// Whatever happens (a failed wait throws), no manager or agent outlives the bench.
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A running custos process whose JSON log lines are collected, so the bench can wait for one. */
class Service {
  readonly lines: LogLine[] = [];
  readonly #child: ChildProcess;
  #exit: number | null | undefined;

  constructor(argv: readonly string[], env: NodeJS.ProcessEnv = {}) {
    this.#child = spawn(process.execPath, [custosBin, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let partial = '';
    this.#child.stderr?.setEncoding('utf8');
    this.#child.stderr?.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) {
        try {
          this.lines.push(JSON.parse(text) as LogLine);
        } catch {
          // not a log line (a stack trace is seen when the process exits)
        }
      }
    });
    live.add(this.#child);
    this.#child.on('exit', (code) => {
      this.#exit = code;
      live.delete(this.#child);
    });
  }

  /** The index of the first line from `from` on with message `msg`, waiting up to `timeoutMs`. */
  async waitFor(msg: string, from = 0, timeoutMs = 1_800_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l, index) => index >= from && l.msg === msg);
      if (i >= 0) return i;
      if (this.#exit !== undefined) throw new Error(`custos exited (${this.#exit}) before "${msg}"`);
      if (Date.now() > deadline) throw new Error(`no "${msg}" within ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  async stop(): Promise<void> {
    if (this.#exit !== undefined) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGTERM');
    await exited;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const sizeOf = (path: string): number => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

/** Follows a growing alerts.json: the lines appended since the last call. */
function follower(file: string): () => string[] {
  let offset = 0;
  let partial = '';
  return () => {
    const size = sizeOf(file);
    if (size <= offset) return [];
    const buffer = Buffer.alloc(size - offset);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buffer, 0, buffer.length, offset);
    } finally {
      closeSync(fd);
    }
    offset = size;
    const parts = (partial + buffer.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    return parts;
  };
}

function custos(argv: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(process.execPath, [custosBin, ...argv], { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`custos ${argv[0] ?? ''} ${argv[1] ?? ''} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Starts the agent, waits for its scan to end and for the manager to acknowledge all of it; returns the seconds. */
async function agentScan(agentArgs: readonly string[]): Promise<{ seconds: number; agent: Service }> {
  const started = process.hrtime.bigint();
  const agent = new Service(agentArgs);
  const finished = await agent.waitFor('scan finished');
  await agent.waitFor('outbox delivered', finished);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, agent };
}

async function run(reportChanges: boolean): Promise<Record<string, number>> {
  const dir = join(work, reportChanges ? 'on' : 'off');
  rmSync(dir, { recursive: true, force: true });
  const managerData = join(dir, 'manager');
  const agentData = join(dir, 'agent');
  const tree = join(dir, 'tree');
  mkdirSync(managerData, { recursive: true });
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(managerData, 'custos.yml'), 'manager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n');
  const manager = new Service(['manager', 'start', '--data', managerData, '--listen', '127.0.0.1:0']);
  try {
    const port = manager.lines[await manager.waitFor('manager listening', 0, 60_000)]?.port as number;
    const token = custos(['manager', 'token', '--data', managerData]).trim();
    const machineId = join(dir, 'machine-id');
    writeFileSync(machineId, `${randomBytes(16).toString('hex')}\n`);
    custos(['agent', 'enroll', '--manager', `https://127.0.0.1:${port}`, '--token', token, '--data', agentData, '--name', 'bench'], {
      CUSTOS_MACHINE_ID_FILE: machineId,
    });
    const config = join(agentData, 'custos.yml');
    writeFileSync(
      config,
      `syscheck:\n  frequency: 12h\n  ignore: []\n  directories:\n    - path: ${tree}\n      realtime: yes\n      report_changes: ${reportChanges ? 'yes' : 'no'}\n  diff:\n    disk_quota: 10GiB\n`,
    );
    const agentArgs = ['agent', 'start', '--data', agentData, '--config', config, '--keepalive', '1s'];
    // An empty tree first: the first keep-alive tells the agent that this manager takes content, before any file
    // is there to send (until then the agent sends none, as it would to an older manager).
    let { agent } = await agentScan(agentArgs);
    await agent.waitFor('watching in realtime', 0, 60_000);
    await sleep(3000);
    await agent.stop();
    const alerts = follower(join(managerData, 'alerts.json'));
    writeCorpus(tree, files, 0);
    let scan = await agentScan(agentArgs);
    const firstS = scan.seconds;
    await scan.agent.stop();
    alerts();
    writeCorpus(tree, files, 1);
    scan = await agentScan(agentArgs);
    const changedS = scan.seconds;
    agent = scan.agent;
    // Every changed file's alert, and how many carry a diff (so the figure is known to be of diffs made).
    const changedAlerts = alerts().filter((l) => l.includes('"syscheck"'));
    const withDiff = changedAlerts.filter((l) => l.includes('"diff":"@@')).length;
    await agent.waitFor('watching in realtime', 0, 120_000);
    const latencies: number[] = [];
    for (let k = 0; k < changes; k++) {
      const file = (k * 997) % files;
      const path = corpusPath(tree, file);
      const quoted = JSON.stringify(path);
      const written = process.hrtime.bigint();
      writeFileSync(path, corpusText(file, 2 + k));
      const deadline = Date.now() + 60_000;
      for (;;) {
        const hit = alerts().some((l) => l.includes(quoted) && (!reportChanges || l.includes('"diff":"@@')));
        if (hit) break;
        if (Date.now() > deadline) throw new Error(`no alert with a diff for ${path} within 60 s`);
        await sleep(5);
      }
      latencies.push(Number(process.hrtime.bigint() - written) / 1e6);
      await sleep(300);
    }
    await agent.stop();
    // Stopped, so its write-ahead log is folded into the database file: the size is what stays on disk.
    await manager.stop();
    latencies.sort((a, b) => a - b);
    const content = join(managerData, 'custos-content.db');
    return {
      firstS,
      changedS,
      changedAlerts: changedAlerts.length,
      alertsWithDiff: withDiff,
      realtimeMedianMs: latencies[Math.floor((latencies.length - 1) / 2)] ?? 0,
      realtimeMaxMs: latencies[latencies.length - 1] ?? 0,
      managerContentBytesPerFile: (sizeOf(content) + sizeOf(`${content}-wal`)) / files,
    };
  } finally {
    await manager.stop();
  }
}

const off = await run(false);
const on = await run(true);
rmSync(work, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ files, changes, off, on })}\n`);
