import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyAlert } from '../../src/core/build-alert.js';
import { CustosService } from './custos-service.js';
import { readAlertsFile } from './alerts.js';
import { runCustos, type CustosRun } from './run-custos.js';

/** A running manager process. */
export interface ManagerHandle {
  readonly service: CustosService;
  readonly port: number;
  readonly url: string;
}

/** One file alert as a test looks at it. */
export interface FileAlertView {
  readonly rule: number;
  readonly event: string;
  readonly path: string;
  readonly agentName: string;
}

/**
 * A fleet of real `custos` processes in one temporary directory: a manager data directory, agents enrolled with
 * machine ids of their own (every test agent runs on this one host), and readers for what the manager wrote.
 */
export class FleetHarness {
  readonly dir: string;
  readonly managerData: string;

  constructor(dir: string, managerYaml = 'manager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n') {
    this.dir = dir;
    this.managerData = join(dir, 'manager');
    mkdirSync(this.managerData, { recursive: true });
    writeFileSync(join(this.managerData, 'custos.yml'), managerYaml);
  }

  /** Starts the manager (on `port`, or any free one) and waits until it listens. */
  async startManager(port = 0, options: { readonly fault?: string } = {}): Promise<ManagerHandle> {
    // The test-only `CUSTOS_TEST_FAULT` hook is read from the manager's environment, inherited at spawn.
    if (options.fault !== undefined) process.env.CUSTOS_TEST_FAULT = options.fault;
    let service: CustosService;
    try {
      service = new CustosService(['manager', 'start', '--data', this.managerData, '--listen', `127.0.0.1:${port}`]);
    } finally {
      if (options.fault !== undefined) delete process.env.CUSTOS_TEST_FAULT;
    }
    const ready = await service.waitForMessage('manager listening', 30_000);
    const bound = ready.port as number;
    return { service, port: bound, url: `https://127.0.0.1:${bound}` };
  }

  /** A fresh single-use enrollment token. */
  async token(): Promise<string> {
    const run = await runCustos(['manager', 'token', '--data', this.managerData]);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout.trim();
  }

  /** A machine id file for a simulated host. */
  machineIdFile(host: string): string {
    const file = join(this.dir, `machine-id-${host}`);
    if (!existsSync(file)) writeFileSync(file, `${randomBytes(16).toString('hex')}\n`);
    return file;
  }

  /** `custos agent enroll` as host `host` (its machine id), into `data`. */
  async enroll(manager: ManagerHandle, host: string, data: string, args: readonly string[]): Promise<CustosRun & { id?: string }> {
    const run = await runCustos(['agent', 'enroll', '--manager', manager.url, '--token', await this.token(), '--data', data, ...args], {
      env: { CUSTOS_MACHINE_ID_FILE: this.machineIdFile(host) },
    });
    const id = /enrolled as agent (\d+)/.exec(run.stdout)?.[1];
    return { ...run, ...(id === undefined ? {} : { id }) };
  }

  /** An agent process watching `dirs` in realtime (hourly scans), keep-alive every second. */
  startAgent(data: string, dirs: readonly string[]): CustosService {
    const config = join(data, 'custos.yml');
    writeFileSync(config, `syscheck:\n  frequency: 1h\n  directories:\n${dirs.map((d) => `    - path: ${d}\n      realtime: yes\n`).join('')}`);
    return new CustosService(['agent', 'start', '--data', data, '--config', config, '--keepalive', '1s']);
  }

  /** Every alert the manager wrote to DATA/alerts.json so far. */
  alerts(): AnyAlert[] {
    // The manager may be appending as the test reads: a torn last line is skipped, not a parse error.
    return readAlertsFile(join(this.managerData, 'alerts.json'));
  }

  /** The file alerts of one agent. */
  fileAlerts(agentId: string): FileAlertView[] {
    return this.alerts().flatMap((a) =>
      'syscheck' in a && a.agent.id === agentId ? [{ rule: Number(a.rule.id), event: a.syscheck.event, path: a.syscheck.path, agentName: a.agent.name }] : [],
    );
  }

  /** The agent alerts (rule ids) of one agent. */
  agentAlerts(agentId: string): AnyAlert[] {
    return this.alerts().filter((a) => !('syscheck' in a) && a.agent.id === agentId);
  }
}

/** Waits until the agent has delivered everything it queued after log line `from`. */
export function delivered(agent: CustosService, from: number, timeoutMs = 60_000): Promise<unknown> {
  return agent.waitForMessage('outbox delivered', timeoutMs, from);
}

/** Waits for the end of a scheduled scan after line `from`, then for its delivery. */
export async function scanDelivered(agent: CustosService, from: number, timeoutMs = 60_000): Promise<void> {
  const finished = await agent.waitForLog((l) => l.msg === 'scan finished', timeoutMs, from);
  await delivered(agent, agent.lines.indexOf(finished), timeoutMs);
}
