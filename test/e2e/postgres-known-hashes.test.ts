import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readAlertsFile } from '../support/alerts.js';
import { CustosService, eventually } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../support/postgres-test-url.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Two manager processes on one real PostgreSQL, no known-hash database configured: both use the known-hash tables
 * in that database. `custos hashdb import manifest` run while both are up (once through a manager's configuration,
 * once by URL) is seen by whichever manager the agent reports to, without a restart: the imported content is
 * recorded as known-good without an alert, content nobody imported alerts.
 */

const schema = testSchemaName('custos_pgkh');
const url = schemaUrl(schema);
const managerYaml = `database:\n  engine: postgres\n  url: ${url}\nmanager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n`;
const fleet = new FleetHarness(tempDir('custos-pg-kh-'), managerYaml);
const running: CustosService[] = [];

interface EventLine {
  readonly outcome?: string;
  readonly known_hash?: { readonly verdict?: string };
  readonly syscheck?: { readonly path: string; readonly event: string };
}

describe('known hashes on PostgreSQL, shared by two managers', { timeout: 240_000 }, () => {
  after(async () => {
    for (const service of running) await service.kill();
    await dropSchemas([schema]);
  });

  it('an import while both managers run is seen by either: known content recorded without an alert, unknown content alerted', async () => {
    const first = await fleet.startManager();
    running.push(first.service);
    const bundle = join(fleet.dir, 'ca-bundle.pem');
    assert.equal((await runCustos(['manager', 'pki', 'export', '--data', fleet.managerData, '--out', bundle])).code, 0);
    const secondData = join(fleet.dir, 'manager-2');
    mkdirSync(secondData, { mode: 0o700 });
    writeFileSync(join(secondData, 'custos.yml'), managerYaml);
    const imported = await runCustos(['manager', 'pki', 'import', '--data', secondData, '--from', bundle]);
    assert.equal(imported.code, 0, imported.stderr);
    rmSync(bundle);
    // The second manager kept its known hashes in a file before they moved to PostgreSQL: it says the file is unused.
    writeFileSync(join(secondData, 'hashdb.sqlite'), '', { mode: 0o600 });
    const secondService = new CustosService(['manager', 'start', '--data', secondData, '--listen', '127.0.0.1:0']);
    running.push(secondService);
    const ready = await secondService.waitForMessage('manager listening', 30_000);
    const second: ManagerHandle = { service: secondService, port: ready.port as number, url: `https://127.0.0.1:${String(ready.port)}` };
    for (const m of [first.service, secondService])
      assert.ok(
        m.lines.some((l) => l.msg === 'known-hash database on PostgreSQL'),
        'in the store database',
      );
    const unused = (m: CustosService): boolean => m.lines.some((l) => l.level === 40 && /known-hash database file is not used/.test(l.msg));
    assert.ok(unused(secondService), 'the old hashdb.sqlite is named as unused');
    assert.ok(!unused(first.service), 'no warning without the file');

    const data = join(fleet.dir, 'agent');
    const enrolled = await fleet.enroll(first, 'kh', data, ['--name', 'kh', '--manager', second.url]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const id = enrolled.id ?? '?';
    const root = join(fleet.dir, 'watched');
    mkdirSync(root);
    const agent = fleet.startAgent(data, [root]);
    running.push(agent);
    await delivered(agent, 0, 60_000);

    // Known content for two paths, in a sha256sum manifest; imported while both managers run.
    const content = (name: string): string => `#!/bin/sh\necho ${name} 2.0\n`;
    const manifest = (name: string): string => {
      const file = join(fleet.dir, `${name}.sha256`);
      writeFileSync(file, `${createHash('sha256').update(content(name)).digest('hex')}  ${join(root, name)}\n`);
      return file;
    };
    // Through the manager's configuration: its store is on PostgreSQL, so that is where the known hashes are.
    const one = await runCustos(['hashdb', 'import', 'manifest', manifest('tool-a'), '--config', join(fleet.managerData, 'custos.yml')]);
    assert.equal(one.code, 0, one.stderr);

    const eventsFor = async (name: string): Promise<EventLine | undefined> => {
      const run = await runCustos(['events', '--store', url, '--agent', id, '--json']);
      return jsonLines<EventLine>(run.stdout).find((e) => e.syscheck?.path === join(root, name));
    };
    const judged = (name: string): Promise<EventLine> => eventually(() => eventsFor(name), 60_000, `${name} recorded`);
    const fileAlerts = (dir: string): string[] =>
      readAlertsFile(join(dir, 'alerts.json')).flatMap((a) => ('syscheck' in a && a.agent.id === id ? [a.syscheck.path] : []));

    // The agent reports to the first manager.
    let from = agent.lines.length;
    writeFileSync(join(root, 'tool-a'), content('tool-a'));
    writeFileSync(join(root, 'unknown-a'), 'nobody imported this\n');
    await delivered(agent, from, 60_000);
    const a = await judged('tool-a');
    assert.deepEqual([a.outcome, a.known_hash?.verdict], ['recorded', 'known-good']);
    await eventually(() => (fileAlerts(fleet.managerData).includes(join(root, 'unknown-a')) ? true : undefined), 60_000, 'unknown-a alerted');

    // Imported by URL, then the first manager stops: the agent moves to the second, which must see this import too.
    const two = await runCustos(['hashdb', 'import', 'manifest', manifest('tool-b'), '--hashdb', url]);
    assert.equal(two.code, 0, two.stderr);
    const stats = await runCustos(['hashdb', 'stats', '--hashdb', url, '--json']);
    // Beside what the agent's host reported of its own packages (dpkg-local), both manifests, one row each.
    const sources = (JSON.parse(stats.stdout) as { sources: { kind: string; name: string; rows: number }[] }).sources;
    assert.deepEqual(
      sources.filter((s) => s.kind === 'manifest').map((s) => [s.name, s.rows]),
      [
        [manifest('tool-a'), 1],
        [manifest('tool-b'), 1],
      ],
    );
    await first.service.kill();
    from = agent.lines.length;
    writeFileSync(join(root, 'tool-b'), content('tool-b'));
    writeFileSync(join(root, 'unknown-b'), 'nor this\n');
    const failover = await agent.waitForMessage('manager failover', 60_000, from);
    assert.equal(failover.to, second.url);
    const b = await judged('tool-b');
    assert.deepEqual([b.outcome, b.known_hash?.verdict], ['recorded', 'known-good']);
    await eventually(() => (fileAlerts(secondData).includes(join(root, 'unknown-b')) ? true : undefined), 60_000, 'unknown-b alerted by the second manager');
    const alerted = [...fileAlerts(fleet.managerData), ...fileAlerts(secondData)];
    assert.deepEqual(
      alerted.filter((p) => p.includes('tool-')),
      [],
      'known content never alerted',
    );
  });
});
