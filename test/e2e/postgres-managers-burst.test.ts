import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AnyAlert } from '../../src/core/build-alert.js';
import { readAlertsFile } from '../support/alerts.js';
import { CustosService, eventually } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../support/postgres-test-url.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Two manager processes on one real PostgreSQL, all active, sharing one CA provisioned with `custos manager pki
 * export|import`; an agent enrolled with the first lists both. The first is killed with SIGKILL in the middle of a
 * burst of 3,000 changes: the agent moves to the second, which accepts its certificate; every change is recorded
 * once, alerted once (one alert id per change, in one sink or, for the batch the killed manager had in flight,
 * again under the same id), and the chain verifies.
 */

const TOTAL = 3000;
const schema = testSchemaName('custos_burst');
const url = schemaUrl(schema);
const managerYaml = `database:\n  engine: postgres\n  url: ${url}\nmanager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n  alert_lease: 3s\n`;
const fleet = new FleetHarness(tempDir('custos-pg-burst-'), managerYaml);
const running: CustosService[] = [];

type FileAlert = AnyAlert & { syscheck: { path: string; event: string } };
const fileAlertsIn = (data: string, root: string): FileAlert[] =>
  readAlertsFile(join(data, 'alerts.json')).filter(
    (a): a is FileAlert => 'syscheck' in a && (a as FileAlert).syscheck.event === 'added' && (a as FileAlert).syscheck.path.startsWith(`${root}/`),
  );
const mode = (file: string): number => statSync(file).mode & 0o777;

describe('two managers on one PostgreSQL, one killed during a burst', { timeout: 240_000 }, () => {
  after(async () => {
    for (const service of running) await service.kill();
    await dropSchemas([schema]);
  });

  it('shares one CA by a documented command; the agent fails over; every change is recorded and alerted once', async () => {
    const first = await fleet.startManager();
    running.push(first.service);

    // The second manager: the first's CA, exported and imported; its own server certificate.
    const bundle = join(fleet.dir, 'ca-bundle.pem');
    const exported = await runCustos(['manager', 'pki', 'export', '--data', fleet.managerData, '--out', bundle]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(mode(bundle), 0o600);
    assert.doesNotMatch(exported.stdout + exported.stderr, /PRIVATE KEY/);
    const again = await runCustos(['manager', 'pki', 'export', '--data', fleet.managerData, '--out', bundle]);
    assert.equal(again.code, 2, 'an existing bundle is never overwritten');
    const secondData = join(fleet.dir, 'manager-2');
    mkdirSync(secondData, { mode: 0o700 });
    writeFileSync(join(secondData, 'custos.yml'), managerYaml);
    const imported = await runCustos(['manager', 'pki', 'import', '--data', secondData, '--from', bundle]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.doesNotMatch(imported.stdout + imported.stderr, /PRIVATE KEY/);
    rmSync(bundle);
    const pki = (data: string, name: string): string => join(data, 'pki', name);
    assert.equal(readFileSync(pki(secondData, 'ca.crt'), 'utf8'), readFileSync(pki(fleet.managerData, 'ca.crt'), 'utf8'), 'one CA');
    assert.notEqual(readFileSync(pki(secondData, 'server.key'), 'utf8'), readFileSync(pki(fleet.managerData, 'server.key'), 'utf8'), 'a server key of its own');
    assert.equal(mode(pki(secondData, 'ca.key')), 0o600);
    assert.equal(mode(pki(secondData, 'server.key')), 0o600);

    const secondService = new CustosService(['manager', 'start', '--data', secondData, '--listen', '127.0.0.1:0']);
    running.push(secondService);
    const ready = await secondService.waitForMessage('manager listening', 30_000);
    const second: ManagerHandle = { service: secondService, port: ready.port as number, url: `https://127.0.0.1:${String(ready.port)}` };
    assert.equal(ready.caSha256, (await first.service.waitForMessage('manager listening')).caSha256, 'both pin the same CA');

    // Enrolled through the first, with both listed.
    const data = join(fleet.dir, 'agent');
    const enrolled = await fleet.enroll(first, 'burst', data, ['--name', 'burst', '--manager', second.url]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const id = enrolled.id ?? '?';
    const root = join(fleet.dir, 'burst-tree');
    mkdirSync(root);
    const agent = fleet.startAgent(data, [root]);
    running.push(agent);
    await delivered(agent, 0, 60_000);

    for (let i = 0; i < TOTAL; i++) {
      writeFileSync(join(root, `f${String(i).padStart(4, '0')}.conf`), `burst ${i}\n`);
      if (i === TOTAL / 3) {
        // Killed while the burst is being delivered: some batches applied, one perhaps in flight, the rest queued.
        await eventually(
          () => (fileAlertsIn(fleet.managerData, root).length >= TOTAL / 10 ? true : undefined),
          60_000,
          'the first tenth of the burst alerted by the first manager',
        );
        first.service.signal('SIGKILL');
      }
    }
    await first.service.kill();
    const failover = await agent.waitForMessage('manager failover', 60_000);
    assert.equal(failover.to, second.url, 'the agent moved to the second manager, which accepts its certificate');

    const paths = (): Set<string> => new Set([...fileAlertsIn(fleet.managerData, root), ...fileAlertsIn(secondData, root)].map((a) => a.syscheck.path));
    await eventually(
      () => (paths().size === TOTAL ? true : undefined),
      120_000,
      () => `${TOTAL} changes alerted (have ${paths().size})`,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500)); // room for a duplicate to show, were there one

    const inFirst = fileAlertsIn(fleet.managerData, root);
    const inSecond = fileAlertsIn(secondData, root);
    assert.ok(inFirst.length > 0 && inSecond.length > 0, `both managers delivered (${inFirst.length} + ${inSecond.length})`);
    for (const [name, alerts] of [
      ['first', inFirst],
      ['second', inSecond],
    ] as const) {
      assert.equal(new Set(alerts.map((a) => a.id)).size, alerts.length, `no alert twice in the ${name} manager's sink`);
    }
    const idsByPath = new Map<string, Set<string>>();
    for (const a of [...inFirst, ...inSecond]) idsByPath.set(a.syscheck.path, (idsByPath.get(a.syscheck.path) ?? new Set()).add(a.id));
    assert.deepEqual(
      [...idsByPath].filter(([, ids]) => ids.size !== 1),
      [],
      'one alert per change',
    );
    // An alert the killed manager wrote but had not marked delivered goes out again, under the same id, from the
    // other manager: only ever the tail of the killed manager's file (the batch it had in flight).
    const secondIds = new Set(inSecond.map((a) => a.id));
    const repeated = inFirst.filter((a) => secondIds.has(a.id)).map((a) => a.id);
    assert.deepEqual(
      repeated,
      inFirst.slice(inFirst.length - repeated.length).map((a) => a.id),
      "repeats are the killed manager's in-flight tail only",
    );
    process.stdout.write(`# alerts: ${inFirst.length} by the killed manager, ${inSecond.length} by the other, ${repeated.length} repeated under the same id\n`);

    // The history: every change recorded exactly once, and the chain verifies.
    const events = await runCustos(['events', '--store', url, '--agent', id, '--json']);
    assert.equal(events.code, 0, events.stderr);
    const recorded = jsonLines<{ syscheck?: { path: string; event: string } }>(events.stdout).filter(
      (e) => e.syscheck?.event === 'added' && e.syscheck.path.startsWith(`${root}/`),
    );
    assert.equal(recorded.length, TOTAL);
    assert.equal(new Set(recorded.map((e) => e.syscheck?.path)).size, TOTAL, 'each change recorded once');
    const verify = await runCustos(['verify', '--store', url]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });
});
