import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { callManager } from '../../src/agent/manager-client.js';
import type { Alert } from '../../src/core/build-alert.js';
import { runCustos } from '../support/run-custos.js';
import { CustosService, eventually } from '../support/custos-service.js';
import { FleetHarness, scanDelivered, type ManagerHandle } from '../support/fleet-harness.js';
import { tempDir } from '../support/temp-dir.js';

const FILES = 400;

/**
 * A throttled scheduled scan on a real agent: a realtime change made while it runs alerts on the real manager
 * before the scan ends (the realtime scan runs beside it instead of waiting), the scan still reports its end, and
 * the agent shows its footprint and throttle in `custos status`.
 */
describe('agent: a throttled scan leaves realtime alone', { timeout: 600_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-throttle-'));
  const tree = join(fleet.dir, 'tree');
  const data = join(fleet.dir, 'agent');
  let manager: ManagerHandle;
  let agent: CustosService | undefined;
  let agentId = '';

  const config = (extra: string): string => {
    const file = join(data, 'custos.yml');
    writeFileSync(file, `syscheck:\n  frequency: 1h\n${extra}  directories:\n    - path: ${tree}\n      realtime: yes\n`);
    return file;
  };
  const start = (file: string): CustosService => new CustosService(['agent', 'start', '--data', data, '--config', file, '--keepalive', '1s']);

  before(async () => {
    mkdirSync(tree);
    for (let i = 0; i < FILES; i++) writeFileSync(join(tree, `f${String(i).padStart(4, '0')}`), `content ${i}`);
    manager = await fleet.startManager();
    const enrolled = await fleet.enroll(manager, 'throttle', data, ['--name', 'throttle']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    agentId = enrolled.id ?? '';
    // The first (full) scan at full speed: it makes the baseline.
    agent = start(config(''));
    // Generous: the first start reports the host's packages too, and CI machines are shared.
    await scanDelivered(agent, 0, 240_000);
    await agent.kill();
  });
  after(async () => {
    await agent?.kill();
    await manager?.service.kill();
  });

  it('a realtime change during a scan held to 20 files/s alerts before that scan ends', async () => {
    agent = start(config('  scan_files_per_second: 20\n  process_priority: 12\n'));
    const running = agent;
    await running.waitForMessage('watching in realtime', 120_000);
    await running.waitForMessage('agent started', 120_000);
    const target = join(tree, 'f0399');
    writeFileSync(target, 'changed while the scan runs');
    const modified = (): Alert | undefined =>
      fleet.alerts().find((a): a is Alert => 'syscheck' in a && a.agent.id === agentId && a.syscheck.path === target && a.syscheck.event === 'modified');
    await eventually(modified, 120_000, 'the realtime alert');
    assert.equal(
      running.lines.some((l) => l.msg === 'scan finished'),
      false,
      'the alert arrived on the manager while the throttled scan was still running',
    );
    const finished = await running.waitForLog((l) => l.msg === 'scan finished', 240_000);
    const pacing = finished.pacing as { files: number; rateWaitMs: number };
    assert.equal(finished.entries, FILES + 1);
    assert.equal(pacing.files, FILES + 1, 'every entry went through the limiter');
    assert.ok(pacing.rateWaitMs > 0, 'the limiter held the scan back');
    // The same change is not reported twice (once by realtime, once by the scan).
    await eventually(
      () => (running.lines.some((l) => l.msg === 'outbox delivered' && running.lines.indexOf(l) > running.lines.indexOf(finished)) ? true : undefined),
      30_000,
      'delivery',
    );
    const alerts = fleet.alerts().filter((a): a is Alert => 'syscheck' in a && a.agent.id === agentId && a.syscheck.path === target);
    assert.equal(alerts.length, 1, JSON.stringify(alerts.map((a) => a.syscheck.event)));
  });

  it("custos status and the manager's /metrics show the running agent's resident memory, threads and scan throttle", async () => {
    const run = await runCustos(['status', '--data', data, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const status = JSON.parse(run.stdout) as {
      footprint?: { rssBytes: number; threads: number; throttle: { processPriority: number; filesPerSecond?: number } };
    };
    assert.ok(status.footprint !== undefined);
    assert.ok(status.footprint.rssBytes > 10 * 2 ** 20, String(status.footprint.rssBytes));
    assert.ok(status.footprint.threads >= 1);
    assert.equal(status.footprint.throttle.processPriority, 12);
    assert.equal(status.footprint.throttle.filesPerSecond, 20);
    const text = await runCustos(['status', '--data', data]);
    assert.match(text.stdout, /scan throttle:\s+nice 12, I\/O best-effort:7, 20 files\/s, events unlimited/);
    assert.match(text.stdout, /memory:\s+\d+ MB resident, \d+ threads/);

    // The same, per agent, at the manager (sent with each keep-alive once the manager said it takes it).
    const ca = readFileSync(join(fleet.managerData, 'pki', 'ca.crt'), 'utf8');
    const labels = `agent_id="${agentId}",agent_name="throttle"`;
    const metrics = await eventually(
      async () => {
        const reply = await callManager({ url: manager.url, ca }, 'GET', '/metrics');
        const body = reply.text;
        return body.includes(`custos_agent_resident_bytes{${labels}}`) ? body : undefined;
      },
      30_000,
      "the agent's footprint in /metrics",
    );
    const sample = (name: string): number => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    assert.ok(sample('custos_agent_resident_bytes') > 10 * 2 ** 20, metrics);
    assert.ok(sample('custos_agent_threads') >= 1);
    assert.equal(sample('custos_agent_scan_nice'), 12);
    assert.equal(sample('custos_agent_scan_files_per_second_limit'), 20);
    assert.equal(sample('custos_agent_scan_io_level'), 7);
  });
});
