import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDeb, dpkgInstall, makeDpkgRoot } from '../support/debian-packages.js';
import { CustosService, eventually } from '../support/custos-service.js';
import { FleetHarness, scanDelivered, type ManagerHandle } from '../support/fleet-harness.js';
import { runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

// The manager knows a package from its .deb (built with dpkg-deb, imported): what the agent reports at the
// package's path is judged with the mode and owner the tar header declares. Real files on this host, as root.
describe('fleet mode: packaged content with a mode or owner the package does not ship alerts (575)', { timeout: 300_000 }, () => {
  const dir = tempDir();
  const watched = `/opt/custos-modes-${randomBytes(4).toString('hex')}`;
  const fleet = new FleetHarness(dir);
  const body = (name: string): string => `#!/bin/sh\necho ${name}\n`;
  let manager: ManagerHandle;
  let agent: { id: string; service: CustosService } | undefined;

  before(async () => {
    const deb = buildDeb(dir, {
      name: 'custos-fleet-modes',
      version: '1.0',
      files: ['setuid-copy', 'chowned', 'right-mode'].map((n) => ({ path: `${watched.slice(1)}/${n}`, content: body(n), mode: 0o755 })),
    });
    const imported = await runCustos(['hashdb', 'import', 'deb', deb, '--hashdb', join(fleet.managerData, 'hashdb.sqlite')]);
    assert.equal(imported.code, 0, imported.stderr);
    // Installed on the agent's host, never imported on the manager: known only from the agent's own dpkg database,
    // with the modes the agent observed at its import.
    const local = buildDeb(dir, {
      name: 'custos-fleet-local',
      version: '1.0',
      files: [{ path: `${watched.slice(1)}/local-tool`, content: body('local-tool'), mode: 0o755 }],
    });
    mkdirSync(watched, { recursive: true });
    manager = await fleet.startManager();
    const root = join(dir, 'root');
    makeDpkgRoot(root);
    dpkgInstall(root, deb, local);
    const data = join(dir, 'agent');
    const enrolled = await fleet.enroll(manager, 'modes-host', data, ['--name', 'modes-host']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const config = join(data, 'custos.yml');
    writeFileSync(config, `syscheck:\n  frequency: 1h\n  directories:\n    - path: ${watched}\n      realtime: yes\n`);
    const service = new CustosService(['agent', 'start', '--data', data, '--config', config, '--keepalive', '1s', '--package-root', root]);
    agent = { id: enrolled.id as string, service };
    await service.waitForMessage('package changes reported', 120_000);
    await scanDelivered(service, 0, 120_000);
  });

  after(async () => {
    await agent?.service.kill();
    await manager?.service.kill();
    rmSync(watched, { recursive: true, force: true });
  });

  // Made beside the watched directory and renamed in, so realtime sees it only with its final mode and owner.
  const place = (name: string, mode: number, uid = 0): void => {
    const staged = `${watched}-staging-${name}`;
    writeFileSync(staged, body(name));
    // chown first: it clears a setuid bit set before it.
    chownSync(staged, uid, 0);
    chmodSync(staged, mode);
    renameSync(staged, join(watched, name));
  };

  const alertFor = (name: string) =>
    eventually(
      () => fleet.alerts().find((a) => 'syscheck' in a && a.agent.id === agent?.id && a.syscheck.path === `${watched}/${name}`),
      60_000,
      `an alert for ${name}`,
    );

  it('a setuid copy of the packaged file: 575 with the declared and actual mode', async () => {
    place('setuid-copy', 0o4755);
    const alert = await alertFor('setuid-copy');
    assert.ok('syscheck' in alert);
    assert.deepEqual(
      [String(alert.rule.id), alert.known_hash.verdict, alert.known_hash.declared_mode, alert.known_hash.actual_mode, alert.known_hash.mismatch],
      ['575', 'package-mismatch', '0755', '4755', 'setuid bit not declared'],
    );
    assert.match(alert.full_log, /declared mode 0755 root:root; actual mode 4755 root:root/);
  });

  it('a copy chowned to another owner: 575 naming both owners', async () => {
    place('chowned', 0o755, 65534);
    const alert = await alertFor('chowned');
    assert.ok('syscheck' in alert);
    assert.deepEqual([String(alert.rule.id), alert.known_hash.declared_owner, alert.known_hash.actual_owner], ['575', 'root', 'nobody']);
  });

  it("a setuid copy of a file known only from the agent's dpkg database: 575, declared as the agent observed it", async () => {
    place('local-tool', 0o4755);
    const alert = await alertFor('local-tool');
    assert.ok('syscheck' in alert);
    assert.deepEqual(
      [String(alert.rule.id), alert.known_hash.source, alert.known_hash.declared_mode, alert.known_hash.declared_by, alert.known_hash.actual_mode],
      ['575', 'dpkg-local', '0755', 'observed at import', '4755'],
    );
  });

  it('a copy with the mode the package ships is recorded as known-good, without an alert', async () => {
    place('right-mode', 0o755);
    const events = await eventually(
      async () => {
        const run = await runCustos(['events', '--data', fleet.managerData, '--agent', agent?.id ?? '', '--json']);
        const lines = run.stdout.split('\n').filter((l) => l.includes(`${watched}/right-mode`));
        return lines.length > 0 ? lines : undefined;
      },
      60_000,
      'the right-mode copy recorded',
    );
    assert.match(events.at(-1) ?? '', /"outcome":"recorded"/);
    assert.match(events.at(-1) ?? '', /"verdict":"known-good"/);
    assert.equal(fleet.fileAlerts(agent?.id ?? '').filter((f) => f.path === `${watched}/right-mode`).length, 0);
  });
});
