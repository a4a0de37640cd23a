// custos-test: exclusive (it runs apt-get and dpkg on this machine, which no other test may see half-done)
import assert from 'node:assert/strict';
import { copyFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildDeb } from '../support/debian-packages.js';
import { eventually, type CustosService } from '../support/custos-service.js';
import { FleetHarness, scanDelivered, type ManagerHandle } from '../support/fleet-harness.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

// A real manager that verifies packages against this machine's signed apt indexes and Debian's archive keyring, two
// real agents on this host, and a real `apt-get install` / `dpkg -i` / `apt-get purge` between them.
const PACKAGES = ['tree', 'nano'];
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const FAKE_ARCHIVE = '/var/cache/apt/archives/custos-fake_1.0_all.deb';

interface EventJson {
  agent: { id: string };
  outcome: string;
  known_hash: { verdict: string; source?: string; package?: string; match?: string };
  syscheck: { path: string; event: string };
}

function apt(...args: string[]): void {
  execFileSync('apt-get', ['-y', '-q', '-o', 'Dpkg::Use-Pty=0', ...args], { env: APT_ENV, stdio: 'ignore', timeout: 600_000 });
}

function installed(packages: readonly string[]): string[] {
  return packages.filter((p) => {
    try {
      return /^install ok installed$/.test(execFileSync('dpkg-query', ['-W', '-f=${Status}', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch {
      return false;
    }
  });
}

describe('fleet mode: package updates on agents are explained by packages the manager verified itself', { timeout: 1_200_000 }, () => {
  const dir = tempDir();
  const fleet = new FleetHarness(
    dir,
    'manager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n  packages:\n    keyring: /usr/share/keyrings/debian-archive-keyring.gpg\n    apt_lists: /var/lib/apt/lists\n',
  );
  let manager: ManagerHandle;
  const agents: { id: string; service: CustosService }[] = [];
  let before0: string[] = [];

  before(async () => {
    // A new machine has no package lists (nor signed indexes for the manager) until `apt-get update`.
    const policy = execFileSync('apt-cache', ['policy', ...PACKAGES], { encoding: 'utf8' });
    if (/Candidate: \(none\)/.test(policy) || !/Candidate:/.test(policy)) apt('update');
    before0 = installed(PACKAGES);
    if (before0.length > 0) apt('purge', ...before0);
    manager = await fleet.startManager();
    for (const host of ['pkg-a', 'pkg-b']) {
      const data = join(dir, host);
      const enrolled = await fleet.enroll(manager, host, data, ['--name', host]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
      const service = fleet.startAgent(data, ['/usr/bin', '/etc']);
      agents.push({ id: enrolled.id as string, service });
    }
    for (const { service } of agents) {
      // The first report (the whole installed base, as the host claims it) and the first scan (the baseline).
      await service.waitForMessage('package changes reported', 300_000);
      await scanDelivered(service, 0, 300_000);
    }
  });

  after(async () => {
    for (const { service } of agents) await service.kill();
    await manager?.service.kill();
    try {
      apt('purge', ...installed([...PACKAGES, 'custos-fake']));
      if (before0.length > 0) apt('install', ...before0);
    } finally {
      rmSync(FAKE_ARCHIVE, { force: true });
    }
  });

  const events = async (): Promise<EventJson[]> =>
    jsonLines<EventJson>((await runCustos(['events', '--data', fleet.managerData, '--json', '--since', '1h'])).stdout);
  const reports = (service: CustosService): number => service.lines.filter((l) => l.msg === 'package changes reported').length;

  it('apt-get install raises no alert at the manager; the .debs are verified there, uploaded once for the fleet', async () => {
    const reported = agents.map((a) => reports(a.service));
    apt('install', ...PACKAGES);
    // Each agent reports the packages, then delivers the realtime changes they explain.
    await eventually(() => agents.every((a, i) => reports(a.service) > (reported[i] as number)) || undefined, 300_000, 'both agents reported the install');
    const treeEvents = await eventually(
      async () => {
        const seen = (await events()).filter((e) => e.syscheck.path === '/usr/bin/tree');
        return agents.every((a) => seen.some((e) => e.agent.id === a.id)) ? seen : undefined;
      },
      120_000,
      'both agents delivered /usr/bin/tree',
    );
    for (const e of treeEvents) {
      assert.deepEqual(
        [e.outcome, e.known_hash.verdict, e.known_hash.source, e.known_hash.package],
        ['recorded', 'known-good', 'deb-verified', 'tree'],
        JSON.stringify(e),
      );
    }
    const uploads = manager.service.lines.filter((l) => l.msg === 'verified a package from an agent' && String(l.package).startsWith('tree '));
    assert.equal(uploads.length, 1, 'the second agent uploaded nothing the first had');
    for (const a of agents) assert.deepEqual(fleet.fileAlerts(a.id), [], `agent ${a.id}: no file alert`);
    const stats = JSON.parse((await runCustos(['hashdb', 'stats', '--hashdb', join(fleet.managerData, 'hashdb.sqlite'), '--json'])).stdout) as {
      debs: { verified: number };
    };
    assert.ok(stats.debs.verified >= 2, 'the manager shows tree and nano as verified');
  });

  it('a file of a verified package tampered with afterwards alerts', async () => {
    execFileSync('sh', ['-c', 'printf "not from the package\\n" >> /usr/bin/tree']);
    await eventually(
      () => (agents.every((a) => fleet.fileAlerts(a.id).some((f) => String(f.rule) === '550' && f.path === '/usr/bin/tree')) ? true : undefined),
      60_000,
      'the tampering alerted for both agents',
    );
  });

  it("a .deb that is not what the signed indexes list is refused and alerted; its files stay the host's claim", async () => {
    const deb = buildDeb(dir, {
      name: 'custos-fake',
      version: '1.0',
      files: [{ path: 'usr/bin/custos-fake-tool', content: '#!/bin/sh\necho fake\n', mode: 0o755 }],
    });
    copyFileSync(deb, FAKE_ARCHIVE);
    execFileSync('dpkg', ['-i', FAKE_ARCHIVE], { stdio: 'ignore' });
    const refused = await eventually(
      () => fleet.alerts().find((a) => !('syscheck' in a) && String(a.rule.id) === '582' && JSON.stringify(a).includes('custos-fake')),
      120_000,
      'rule 582 for custos-fake',
    );
    assert.match(refused.full_log, /not listed in any verified index/);
    const fake = await eventually(async () => (await events()).find((e) => e.syscheck.path === '/usr/bin/custos-fake-tool'), 60_000, 'the fake tool delivered');
    assert.deepEqual(
      [fake.known_hash.verdict, fake.known_hash.source],
      ['known-good', 'dpkg-local'],
      "explained only by the host's own claim, and the verdict says so",
    );
  });

  it('apt-get purge raises no alert: the deletions are explained by the removal', async () => {
    const reported = agents.map((a) => reports(a.service));
    const alertsBefore = agents.map((a) => fleet.fileAlerts(a.id).length);
    apt('purge', ...PACKAGES, 'custos-fake');
    await eventually(() => agents.every((a, i) => reports(a.service) > (reported[i] as number)) || undefined, 300_000, 'both agents reported the purge');
    const gone = await eventually(
      async () => {
        const seen = (await events()).filter((e) => e.syscheck.path === '/usr/bin/nano' && e.syscheck.event === 'deleted');
        return agents.every((a) => seen.some((e) => e.agent.id === a.id)) ? seen : undefined;
      },
      120_000,
      'both agents delivered the deletion of /usr/bin/nano',
    );
    for (const e of gone) assert.deepEqual([e.outcome, e.known_hash.match], ['recorded', 'removal'], JSON.stringify(e));
    agents.forEach((a, i) => assert.deepEqual(fleet.fileAlerts(a.id).slice(alertsBefore[i]), [], `agent ${a.id}: no alert for the purge`));
  });
});
