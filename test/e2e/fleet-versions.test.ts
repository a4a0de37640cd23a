import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDeb, dpkgInstall, makeDpkgRoot } from '../support/debian-packages.js';
import { CustosService, eventually } from '../support/custos-service.js';
import { FleetHarness, scanDelivered, type ManagerHandle } from '../support/fleet-harness.js';
import { runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

// Two agents whose hosts have different versions of one package installed (each agent reads its host's dpkg
// database from a root of its own, built by the real dpkg): the same bytes are known-good on the host that has that
// version installed, and alert as another version (rule 573) on the other.
describe("fleet mode: known-good is the version installed on that agent's host", { timeout: 300_000 }, () => {
  const dir = tempDir();
  const watched = `/opt/custos-versions-${randomBytes(4).toString('hex')}`;
  const fleet = new FleetHarness(dir);
  const tool = (v: string): string => `#!/bin/sh\necho demo ${v}\n`;
  let manager: ManagerHandle;
  const agents: { id: string; service: CustosService; version: string }[] = [];

  before(async () => {
    const pkg = (v: string): string =>
      buildDeb(dir, { name: 'custos-versions', version: v, files: [{ path: `${watched.slice(1)}/demo-tool`, content: tool(v), mode: 0o755 }] });
    const debs = { '1.0': pkg('1.0'), '2.0': pkg('2.0') };
    // The manager knows both versions (imported .debs); which one is right depends on the host.
    const imported = await runCustos(['hashdb', 'import', 'deb', debs['1.0'], debs['2.0'], '--hashdb', join(fleet.managerData, 'hashdb.sqlite')]);
    assert.equal(imported.code, 0, imported.stderr);
    mkdirSync(watched, { recursive: true });
    manager = await fleet.startManager();
    for (const version of ['1.0', '2.0'] as const) {
      const root = join(dir, `root-${version}`);
      makeDpkgRoot(root);
      dpkgInstall(root, debs[version]);
      const host = `host-v${version.replace('.', '-')}`;
      const data = join(dir, host);
      const enrolled = await fleet.enroll(manager, host, data, ['--name', host]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
      const config = join(data, 'custos.yml');
      writeFileSync(config, `syscheck:\n  frequency: 1h\n  directories:\n    - path: ${watched}\n      realtime: yes\n`);
      const service = new CustosService(['agent', 'start', '--data', data, '--config', config, '--keepalive', '1s', '--package-root', root]);
      agents.push({ id: enrolled.id as string, service, version });
    }
    for (const { service } of agents) {
      await service.waitForMessage('package changes reported', 120_000);
      await scanDelivered(service, 0, 120_000);
    }
  });

  after(async () => {
    for (const { service } of agents) await service.kill();
    await manager?.service.kill();
    rmSync(watched, { recursive: true, force: true });
  });

  for (const version of ['1.0', '2.0']) {
    it(`the ${version} file is silent where ${version} is installed and alerts (573) where the other is`, async () => {
      writeFileSync(join(watched, 'demo-tool'), tool(version), { mode: 0o755 });
      const other = agents.find((a) => a.version !== version) as (typeof agents)[number];
      const same = agents.find((a) => a.version === version) as (typeof agents)[number];
      const alert = await eventually(
        () =>
          fleet
            .alerts()
            .find((a) => 'syscheck' in a && a.agent.id === other.id && a.syscheck.path === `${watched}/demo-tool` && a.known_hash.version === version),
        60_000,
        `the ${version} file alerted on the host with ${other.version}`,
      );
      assert.ok('syscheck' in alert);
      assert.deepEqual(
        [String(alert.rule.id), alert.known_hash.verdict, alert.known_hash.installed_version, alert.known_hash.relation],
        ['573', 'other-version', other.version, version < other.version ? 'older' : 'newer'],
      );
      // The host that has it installed recorded the same bytes without an alert.
      const events = await eventually(
        async () => {
          const run = await runCustos(['events', '--data', fleet.managerData, '--agent', same.id, '--json']);
          const lines = run.stdout.split('\n').filter((l) => l.includes('demo-tool') && l.includes(`"version":"${version}"`));
          return lines.length > 0 ? lines : undefined;
        },
        60_000,
        `the ${version} file recorded on the host with ${version}`,
      );
      assert.match(events.at(-1) ?? '', /"outcome":"recorded"/);
      assert.equal(
        fleet.fileAlerts(same.id).filter((f) => f.path === `${watched}/demo-tool`).length,
        version === '1.0' ? 0 : 1,
        'silent where it is installed (the 1.0 file it replaced alerted there once)',
      );
    });
  }
});
