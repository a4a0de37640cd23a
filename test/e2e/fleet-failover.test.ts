import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { eventually, type CustosService } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Agents that take a list of managers and fail over, end to end with real processes over loopback TLS: a manager
 * that cannot be reached is passed over at enrollment and at run time, and a manager killed with SIGKILL in the
 * middle of a burst of changes loses none of them and duplicates none when the agent moves to the next one (here
 * a second manager process on the same store, as after a fail-over of the manager's host).
 */

const fleet = new FleetHarness(tempDir('custos-failover-'));
const running = new Set<CustosService>();

/** A loopback port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(typeof address === 'object' && address !== null);
  return address.port;
}

function addedAlerts(agentId: string, root: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const alert of fleet.fileAlerts(agentId)) {
    if (alert.event !== 'added' || !alert.path.startsWith(`${root}/`)) continue;
    counts.set(alert.path, (counts.get(alert.path) ?? 0) + 1);
  }
  return counts;
}

describe('agent failover across a list of managers', { timeout: 300_000 }, () => {
  let manager: ManagerHandle | undefined;
  after(async () => {
    for (const service of running) await service.kill();
    await manager?.service.kill();
  });

  it('enrolls through the first manager that answers, keeps the whole list, and reports through the live one', async () => {
    manager = await fleet.startManager();
    const dead = `https://127.0.0.1:${await freePort()}`;
    const data = join(fleet.dir, 'agent-list');
    const token = await fleet.token();
    const run = await runCustos(['agent', 'enroll', '--manager', dead, '--manager', manager.url, '--token', token, '--data', data, '--name', 'listed'], {
      env: { CUSTOS_MACHINE_ID_FILE: fleet.machineIdFile('listed') },
    });
    assert.equal(run.code, 0, run.stderr);
    const id = /enrolled as agent (\d+)/.exec(run.stdout)?.[1] ?? '?';
    const identity = JSON.parse(readFileSync(join(data, 'agent.json'), 'utf8')) as { managerUrl: string; alternates?: string[] };
    assert.equal(identity.managerUrl, dead);
    assert.deepEqual(identity.alternates, [manager.url]);

    const root = join(fleet.dir, 'listed-tree');
    mkdirSync(root, { recursive: true });
    const agent = fleet.startAgent(data, [root]);
    running.add(agent);
    await delivered(agent, 0);
    const failover = await agent.waitForMessage('manager failover', 30_000);
    assert.equal(failover.from, dead);
    assert.equal(failover.to, manager.url);
    writeFileSync(join(root, 'new.conf'), 'x\n');
    await eventually(() => (addedAlerts(id, root).get(join(root, 'new.conf')) === 1 ? true : undefined), 30_000, 'the added alert through the live manager');

    const status = await runCustos(['status', '--data', data, '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual((JSON.parse(status.stdout) as { alternates?: string[] }).alternates, [manager.url]);
    await agent.kill();
    running.delete(agent);
    await manager.service.kill();
    manager = undefined;
  });

  it('a manager killed with SIGKILL during a burst of 600 changes: the agent moves to the next manager and every change alerts exactly once', async () => {
    const first = await fleet.startManager();
    manager = first;
    const secondPort = await freePort();
    const secondUrl = `https://127.0.0.1:${secondPort}`;
    const data = join(fleet.dir, 'agent-burst');
    const enrolled = await fleet.enroll(first, 'burst', data, ['--name', 'burst', '--manager', secondUrl]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const id = enrolled.id ?? '?';
    const root = join(fleet.dir, 'burst-tree');
    mkdirSync(root, { recursive: true });
    const agent = fleet.startAgent(data, [root]);
    running.add(agent);
    await delivered(agent, 0);

    const total = 600;
    for (let i = 0; i < total; i++) {
      writeFileSync(join(root, `f${String(i).padStart(4, '0')}.conf`), `burst ${i}\n`);
      // Kill the manager while the burst is being delivered: some batches applied, some in flight, some queued.
      if (i === total / 3) {
        await eventually(() => (addedAlerts(id, root).size > 0 ? true : undefined), 30_000, 'the first alerts of the burst');
        first.service.signal('SIGKILL');
      }
    }
    await first.service.kill();
    // The fleet's other manager: another process on the same store, on the address the agent was given.
    manager = await fleet.startManager(secondPort);
    const failover = await agent.waitForMessage('manager failover', 60_000);
    assert.equal(failover.to, secondUrl);
    await eventually(
      () => (addedAlerts(id, root).size === total ? true : undefined),
      120_000,
      () => `${total} added alerts (have ${addedAlerts(id, root).size})`,
    );
    const counts = addedAlerts(id, root);
    const duplicated = [...counts].filter(([, n]) => n !== 1);
    assert.deepEqual(duplicated, [], 'every change alerted exactly once');

    const verify = await runCustos(['verify', '--data', fleet.managerData]);
    assert.equal(verify.code, 0, `${verify.stdout}\n${verify.stderr}`);
  });
});
