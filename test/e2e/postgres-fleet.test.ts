import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CustosService, eventually } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../support/postgres-test-url.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Two real manager processes on one real PostgreSQL database, agents spread over both: one fleet, one history.
 * (Agents fail over between managers in a later round; here each agent keeps to the manager it enrolled with.)
 */

const schema = testSchemaName('custos_e2e');
const url = schemaUrl(schema);
const managerYaml = `database:\n  engine: postgres\n  url: ${url}\nmanager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n`;
const fleet = new FleetHarness(tempDir('custos-pg-fleet-'), managerYaml);
const running: CustosService[] = [];

describe('two managers on one PostgreSQL', { timeout: 300_000 }, () => {
  after(async () => {
    for (const service of running) await service.kill();
    await dropSchemas([schema]);
  });

  it('share agents, enrollment tokens and history; each change is alerted exactly once, and the chains verify', async () => {
    const first = await fleet.startManager();
    running.push(first.service);
    // The second manager: its own data directory (alert files) with the same CA and certificate as the first.
    const secondData = join(fleet.dir, 'manager-2');
    mkdirSync(secondData, { mode: 0o700 });
    cpSync(join(fleet.managerData, 'pki'), join(secondData, 'pki'), { recursive: true });
    writeFileSync(join(secondData, 'custos.yml'), managerYaml);
    const secondService = new CustosService(['manager', 'start', '--data', secondData, '--listen', '127.0.0.1:0']);
    running.push(secondService);
    const ready = await secondService.waitForMessage('manager listening', 30_000);
    const second: ManagerHandle = { service: secondService, port: ready.port as number, url: `https://127.0.0.1:${String(ready.port)}` };

    // Tokens come from the shared store: one made through the first manager's data directory enrolls at the second.
    const agents: { id: string; root: string; service: CustosService }[] = [];
    for (const [manager, host] of [
      [first, 'host-a'],
      [second, 'host-b'],
    ] as const) {
      const root = join(fleet.dir, `watched-${host}`);
      mkdirSync(root);
      writeFileSync(join(root, 'keep.conf'), 'unchanged\n');
      const data = join(fleet.dir, `agent-${host}`);
      const enrolled = await fleet.enroll(manager, host, data, ['--name', host]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
      const service = fleet.startAgent(data, [root]);
      running.push(service);
      agents.push({ id: enrolled.id ?? '?', root, service });
    }
    assert.deepEqual(
      agents.map((a) => a.id),
      ['001', '002'],
      'one registry: the second manager numbers on from the first',
    );
    for (const agent of agents) await delivered(agent.service, 0, 180_000);

    for (const agent of agents) for (let i = 0; i < 20; i++) writeFileSync(join(agent.root, `new-${i}.conf`), `added ${i}\n`);
    const alertsIn = (data: string) => {
      const file = join(data, 'alerts.json');
      return jsonLines<{ agent: { id: string }; syscheck?: { path: string; event: string } }>(readText(file)).filter((a) => a.syscheck !== undefined);
    };
    const all = () => [...alertsIn(fleet.managerData), ...alertsIn(secondData)];
    await eventually(
      () => (all().length >= 40 ? true : undefined),
      120_000,
      () => `40 alerts (got ${all().length})`,
    );
    // Give a duplicate the time to show up, if there were one.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const seen = all().map((a) => `${a.agent.id} ${a.syscheck?.event ?? ''} ${a.syscheck?.path ?? ''}`);
    assert.equal(seen.length, 40, 'nothing alerted twice');
    assert.equal(new Set(seen).size, 40);
    assert.ok(
      alertsIn(fleet.managerData).every((a) => a.agent.id === '001'),
      "each manager's sinks carry its own agent's alerts",
    );
    assert.ok(alertsIn(secondData).every((a) => a.agent.id === '002'));

    const verify = await runCustos(['verify', '--store', url]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /history intact: \d+ records verified/);
    const events = await runCustos(['events', '--store', url, '--json']);
    assert.equal(events.code, 0, events.stderr);
    const byAgent = new Map<string, number>();
    for (const e of jsonLines<{ agent: { id: string } }>(events.stdout)) byAgent.set(e.agent.id, (byAgent.get(e.agent.id) ?? 0) + 1);
    assert.deepEqual(
      [...byAgent.entries()].sort(),
      [
        ['001', 20],
        ['002', 20],
      ],
      'one history, read from either side',
    );
  });

  it('never shows the password of the store URL', async () => {
    const withPassword = new URL(url);
    withPassword.password = 'hunter2-secret';
    withPassword.port = '1';
    const run = await runCustos(['events', '--store', withPassword.toString()]);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /failed to open the PostgreSQL store postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\//);
    assert.doesNotMatch(run.stdout + run.stderr, /hunter2/);
  });
});

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
