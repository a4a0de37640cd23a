/**
 * Agent footprint: a real manager and a real agent (realtime on a tree) as the service runs them (the launcher's
 * shebang flags applied, and the agent with its systemd unit's environment), measured from /proc: resident memory (VmRSS) and threads of the agent once its first
 * scan is delivered and it sits idle, next to a bare Node process measured in the same run; and the CPU share and
 * wall time of a scan limited to a CPU share next to an unlimited one (user + system time of the agent process
 * over the scan, from /proc/PID/stat, divided by the scan's wall time and the cores it may use).
 *
 * Idle figures are the highest of one sample a second over the idle time (12 s: two keep-alives, 5 s apart here),
 * not one sample: what the agent holds between releases, not right after one. With `--realtime-change`, the agent
 * also watches one file of its own (written in the tree before the start, removed after) change twice once it
 * idles: how long each change took to be delivered, what it holds while handling them, and again once realtime has
 * been quiet and it gave that back.
 *
 * Run: npm run build && node dist/bench/agent-footprint.js --tree DIR [--cpu-share 25] [--idle-seconds 12]
 *   [--realtime-change] [--json]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const CUSTOS = fileURLToPath(new URL('../../bin/custos.js', import.meta.url));
const AGENT_UNIT = fileURLToPath(new URL('../../systemd/custos-agent.service', import.meta.url));
const TICKS_PER_SECOND = 100;

/** What one agent run measured. */
export interface FootprintFigures {
  readonly files: number;
  readonly scanSeconds: number;
  /** Process CPU time over the scan divided by wall time, as a share of the machine (all cores = 100). */
  readonly scanCpuSharePercent: number;
  readonly idleRssMb: number;
  /** The idle agent's RSS split: anonymous (its own) and file-backed (the node binary and libraries, shared and reclaimable). */
  readonly idleAnonMb: number;
  readonly idleFileMb: number;
  readonly idleThreads: number;
  /** With a realtime change: the highest RSS from the change to its delivery and 2 s after. */
  readonly changeRssMb?: number;
  readonly changeThreads?: number;
  /**
   * With a realtime change: from writing the file to the agent's `outbox delivered` (scanned, sent, acknowledged by
   * the manager), the first change after idling and a second one right after it.
   */
  readonly changeDeliveredMs?: number;
  readonly warmChangeDeliveredMs?: number;
  /** With a realtime change: idle again after the agent gave back what the change needed (highest over the idle time). */
  readonly quietRssMb?: number;
  readonly quietAnonMb?: number;
  readonly quietFileMb?: number;
  readonly quietThreads?: number;
  readonly peakRssMb: number;
  /** RSS just before and after the agent gave back what the scan needed (its own log line). */
  readonly releasedFromMb?: number;
  readonly releasedToMb?: number;
  readonly bareNodeRssMb: number;
  readonly bareNodeAnonMb: number;
  readonly bareNodeFileMb: number;
  readonly bareNodeThreads: number;
}

/**
 * The `Environment=` settings of the agent's systemd unit but PATH (`MALLOC_ARENA_MAX`): the bench measures the
 * agent as the service runs it.
 */
export function agentUnitEnvironment(unit = readFileSync(AGENT_UNIT, 'utf8')): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of unit.matchAll(/^Environment=([A-Z_][A-Z0-9_]*)=(\S*)\s*$/gm)) {
    const [, name, value] = match;
    if (name !== undefined && value !== undefined && name !== 'PATH') env[name] = value;
  }
  return env;
}

interface Proc {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
}

function start(args: readonly string[], env: Record<string, string> = {}): Proc {
  const child = spawn(CUSTOS, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TZ: 'UTC', ...env } });
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) {
      try {
        lines.push(JSON.parse(text) as Record<string, unknown>);
      } catch {
        lines.push({ msg: text });
      }
    }
  });
  return { child, lines };
}

async function waitFor(proc: Proc, msg: string, from = 0, timeoutMs = 30 * 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = proc.lines.findIndex((l, i) => i >= from && l.msg === msg);
    if (index >= 0) return index;
    if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${msg}" from custos: ${JSON.stringify(proc.lines.slice(-10))}`);
    await sleep(100);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The highest of one sample a second of a process's `procStatus` over `seconds`. */
async function highestOver(pid: number, seconds: number): Promise<ReturnType<typeof procStatus>> {
  let highest = procStatus(pid);
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    const now = procStatus(pid);
    if (now.rssMb > highest.rssMb) highest = now;
  }
  return highest;
}

/** VmRSS (MB), its anonymous and file-backed parts (RssAnon, RssFile) and Threads of a process. */
export function procStatus(pid: number): { rssMb: number; anonMb: number; fileMb: number; threads: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rssMb: field('VmRSS') / 1024, anonMb: field('RssAnon') / 1024, fileMb: field('RssFile') / 1024, threads: field('Threads') };
}

/** User + system CPU seconds of a process, all its threads (utime + stime of /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function bareNode(): Promise<ReturnType<typeof procStatus>> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(1500);
  const figures = procStatus(child.pid as number);
  child.kill();
  return figures;
}

/** Starts a manager and one agent watching `tree` in realtime, measures its first scan and its idle footprint. */
export async function measureAgentFootprint(
  tree: string,
  options: {
    cpuShare?: number;
    idleSeconds?: number;
    realtimeChange?: boolean;
    extraYaml?: string;
    onIdle?: (pid: number, log: readonly Record<string, unknown>[]) => Promise<void>;
  } = {},
): Promise<FootprintFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'custos-footprint-'));
  const procs: Proc[] = [];
  const probe = join(tree, `custos-footprint-probe-${process.pid}`);
  const idleSeconds = options.idleSeconds ?? 12;
  try {
    if (options.realtimeChange === true) writeFileSync(probe, 'before\n');
    const managerData = join(dir, 'manager');
    const agentData = join(dir, 'agent');
    mkdirSync(managerData);
    mkdirSync(agentData);
    writeFileSync(join(managerData, 'custos.yml'), 'manager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n');
    const manager = start(['manager', 'start', '--data', managerData, '--listen', '127.0.0.1:0']);
    procs.push(manager);
    const listening = manager.lines[await waitFor(manager, 'manager listening')] as { port: number };
    const token = execFileSync(CUSTOS, ['manager', 'token', '--data', managerData], { encoding: 'utf8' }).trim();
    const machineId = join(dir, 'machine-id');
    writeFileSync(machineId, `${'ab'.repeat(16)}\n`);
    execFileSync(CUSTOS, ['agent', 'enroll', '--manager', `https://127.0.0.1:${listening.port}`, '--token', token, '--data', agentData], {
      env: { ...process.env, CUSTOS_MACHINE_ID_FILE: machineId },
      stdio: 'ignore',
    });
    const config = join(agentData, 'custos.yml');
    const limits = options.cpuShare === undefined ? '' : `  scan_cpu_share: ${options.cpuShare}\n`;
    writeFileSync(config, `syscheck:\n  frequency: 1h\n${limits}${options.extraYaml ?? ''}  directories:\n    - path: ${tree}\n      realtime: yes\n`);
    const agent = start(['agent', 'start', '--data', agentData, '--config', config, '--keepalive', '5s'], agentUnitEnvironment());
    procs.push(agent);
    const pid = agent.child.pid as number;
    // The scan starts right after the agent's start-up: measure CPU from the first keep-alive on.
    const started = await waitFor(agent, 'agent started');
    const cpuBefore = cpuSeconds(pid);
    const wallBefore = Date.now();
    let peak = 0;
    let finishedAt = -1;
    while (finishedAt < 0) {
      peak = Math.max(peak, procStatus(pid).rssMb);
      finishedAt = agent.lines.findIndex((l, i) => i >= started && l.msg === 'scan finished');
      if (agent.child.exitCode !== null) throw new Error('the agent exited during the scan');
      if (finishedAt < 0) await sleep(200);
    }
    const scanSeconds = (Date.now() - wallBefore) / 1000;
    const cpu = cpuSeconds(pid) - cpuBefore;
    const finished = agent.lines[finishedAt] as { entries?: number };
    const released = agent.lines[await waitFor(agent, 'scan memory released', finishedAt)] as { rssBeforeMb?: number; rssAfterMb?: number };
    await waitFor(agent, 'outbox delivered', finishedAt);
    // Idle for longer than a keep-alive (5 s here): the agent gives back what a report sent after the delivery left.
    const idle = await highestOver(pid, idleSeconds);
    // A caller profiling the idle agent (where its memory goes) looks at it here, while it still runs.
    await options.onIdle?.(pid, agent.lines);
    let change: ReturnType<typeof procStatus> | undefined;
    let quiet: ReturnType<typeof procStatus> | undefined;
    let changeMs: { cold: number; warm: number } | undefined;
    if (options.realtimeChange === true) {
      /** Changes the probe file; resolves once the agent delivered it, with the time from the write and the highest status meanwhile. */
      const deliver = async (content: string): Promise<{ ms: number; highest: ReturnType<typeof procStatus>; from: number }> => {
        const from = agent.lines.length;
        const writtenAt = performance.now();
        writeFileSync(probe, content);
        let highest = procStatus(pid);
        while (!agent.lines.some((l, i) => i >= from && l.msg === 'outbox delivered')) {
          if (agent.child.exitCode !== null) throw new Error('the agent exited handling a realtime change');
          const now = procStatus(pid);
          if (now.rssMb > highest.rssMb) highest = now;
          await sleep(10);
        }
        return { ms: performance.now() - writtenAt, highest, from };
      };
      // The first change finds the agent idle (its hashing threads ended, its code pages given back); the second,
      // right after, finds what the first started still there.
      const cold = await deliver('after\n');
      const warm = await deliver('again\n');
      change = warm.highest.rssMb > cold.highest.rssMb ? warm.highest : cold.highest;
      const after = await highestOver(pid, 2);
      if (after.rssMb > change.rssMb) change = after;
      changeMs = { cold: cold.ms, warm: warm.ms };
      await waitFor(agent, 'realtime memory released', warm.from, 60_000);
      quiet = await highestOver(pid, idleSeconds);
    }
    const bare = await bareNode();
    return {
      files: finished.entries ?? 0,
      scanSeconds,
      scanCpuSharePercent: (100 * cpu) / scanSeconds / availableParallelism(),
      idleRssMb: idle.rssMb,
      idleAnonMb: idle.anonMb,
      idleFileMb: idle.fileMb,
      idleThreads: idle.threads,
      ...(change === undefined ? {} : { changeRssMb: change.rssMb, changeThreads: change.threads }),
      ...(changeMs === undefined ? {} : { changeDeliveredMs: changeMs.cold, warmChangeDeliveredMs: changeMs.warm }),
      ...(quiet === undefined ? {} : { quietRssMb: quiet.rssMb, quietAnonMb: quiet.anonMb, quietFileMb: quiet.fileMb, quietThreads: quiet.threads }),
      peakRssMb: peak,
      ...(released.rssBeforeMb === undefined ? {} : { releasedFromMb: released.rssBeforeMb }),
      ...(released.rssAfterMb === undefined ? {} : { releasedToMb: released.rssAfterMb }),
      bareNodeRssMb: bare.rssMb,
      bareNodeAnonMb: bare.anonMb,
      bareNodeFileMb: bare.fileMb,
      bareNodeThreads: bare.threads,
    };
  } finally {
    for (const p of procs.reverse()) {
      p.child.kill('SIGTERM');
      await new Promise((resolve) => (p.child.exitCode === null ? p.child.once('exit', resolve) : resolve(undefined)));
    }
    rmSync(dir, { recursive: true, force: true });
    if (options.realtimeChange === true) rmSync(probe, { force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      tree: { type: 'string' },
      'cpu-share': { type: 'string' },
      'idle-seconds': { type: 'string' },
      'realtime-change': { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  if (values.tree === undefined) throw new Error('--tree DIR is required');
  const figures = await measureAgentFootprint(values.tree, {
    ...(values['cpu-share'] === undefined ? {} : { cpuShare: Number(values['cpu-share']) }),
    ...(values['idle-seconds'] === undefined ? {} : { idleSeconds: Number(values['idle-seconds']) }),
    realtimeChange: values['realtime-change'] === true,
  });
  process.stdout.write(`${JSON.stringify(figures, null, values.json === true ? 0 : 2)}\n`);
}
