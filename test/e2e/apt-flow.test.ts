// custos-test: exclusive (it runs apt-get and dpkg on this machine, which no other test may see half-done)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

// The user's real flow on this machine (root, Debian 12, Debian's archive reachable): the README's steps, then a
// real `apt-get install` and `apt-get purge` of small real packages that exercise each kind of explanation:
// - tree: a plain binary;
// - sudo: a symlink (sudoedit → sudo), conffiles, an init script and the rcN.d links update-rc.d makes;
// - nano: update-alternatives (editor, pico), with slaves the chosen alternative does not provide;
// - libinih1: a shared library, so the libc-bin trigger runs ldconfig and rewrites /etc/ld.so.cache.
const PACKAGES = ['tree', 'sudo', 'nano', 'libinih1'];
const HOOK = '/etc/dpkg/dpkg.cfg.d/custos-known-hashes';
const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', SUDO_FORCE_REMOVE: 'yes' };

interface EventJson {
  outcome: string;
  reason?: string;
  known_hash: { verdict: string; package?: string; match?: string; source?: string };
  syscheck: { path: string; event: string };
}
interface AlertJson {
  rule: { id: number };
  syscheck?: { path: string; event: string };
  known_hash?: { verdict: string };
}

function apt(...args: string[]): string {
  return execFileSync('apt-get', ['-y', '-q', '-o', 'Dpkg::Use-Pty=0', ...args], { env: APT_ENV, encoding: 'utf8', timeout: 600_000 });
}

function installed(packages: readonly string[]): string[] {
  const out = execFileSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\\n', ...packages], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
  return out
    .split('\n')
    .filter((l) => /^\S+ [ih]i/.test(l))
    .map((l) => l.split(' ')[0] as string);
}

function installedQuietly(packages: readonly string[]): string[] {
  try {
    return installed(packages);
  } catch (error) {
    // dpkg-query exits 1 when a name is unknown to it, still printing the others.
    const stdout = (error as { stdout?: Buffer | string }).stdout?.toString() ?? '';
    return stdout
      .split('\n')
      .filter((l) => /^\S+ [ih]i/.test(l))
      .map((l) => l.split(' ')[0] as string);
  }
}

describe("the seed's promise on this machine: apt-get install and purge raise no alert", { timeout: 1_200_000 }, () => {
  const dir = tempDir();
  const db = join(dir, 'custos.db');
  const config = join(dir, 'custos.yml');
  const args = ['--config', config, '--db', db];
  let before0: string[] = [];
  let savedHook: string | undefined;
  let editorBefore = '';

  before(() => {
    writeFileSync(config, "# the defaults: OSSEC's stock directories, everything checked\n");
    // A new machine has no package lists until `apt-get update`.
    const policy = execFileSync('apt-cache', ['policy', ...PACKAGES], { encoding: 'utf8' });
    if (/Candidate: \(none\)/.test(policy) || !/Candidate:/.test(policy)) apt('update');
    before0 = installedQuietly(PACKAGES);
    savedHook = existsSync(HOOK) ? readFileSync(HOOK, 'utf8') : undefined;
    editorBefore = execFileSync('readlink', ['/etc/alternatives/editor'], { encoding: 'utf8' }).trim();
    // Start from a machine without them (a crashed earlier run may have left them); put back what was there.
    if (before0.length > 0) apt('purge', ...before0);
  });

  after(() => {
    try {
      apt('purge', ...installedQuietly(PACKAGES));
      if (before0.length > 0) apt('install', ...before0);
    } finally {
      if (savedHook === undefined) rmSync(HOOK, { force: true });
      else writeFileSync(HOOK, savedHook);
    }
  });

  it('imports the dpkg database, installs the hook and builds the baseline of the default directories', async () => {
    const imported = await runCustos(['hashdb', 'import', 'dpkg', ...args, '--json'], { timeoutMs: 300_000 });
    assert.equal(imported.code, 0, imported.stderr);
    const hook = await runCustos(['hashdb', 'apt-hook', 'install', ...args, '--apt-conf-dir', dir]);
    assert.equal(hook.code, 0, hook.stderr);
    assert.ok(existsSync(HOOK));
    const baseline = await runCustos(['check', ...args], { timeoutMs: 300_000 });
    assert.equal(baseline.code, 0, baseline.stderr);
    assert.match(baseline.stderr, /first scan/);
  });

  it('apt-get install: every change is explained by what was installed, zero alerts', async () => {
    const out = apt('install', ...PACKAGES);
    assert.deepEqual(installed(PACKAGES).sort(), [...PACKAGES].sort(), out);
    const r = await runCustos(['check', ...args, '--json'], { timeoutMs: 300_000 });
    const alerts = jsonLines<AlertJson>(r.stdout);
    assert.deepEqual(
      alerts.map((a) => `${a.rule.id} ${a.syscheck?.event ?? ''} ${a.syscheck?.path ?? ''} ${a.known_hash?.verdict ?? ''}`),
      [],
      r.stderr,
    );
    assert.equal(r.code, 0, r.stderr);
    const events = await recentEvents();
    const explained = (path: string): EventJson => {
      const e = events.get(path);
      assert.ok(e !== undefined, `${path} was recorded: ${[...events.keys()].join(' ')}`);
      assert.equal(e.outcome, 'recorded', JSON.stringify(e));
      assert.equal(e.known_hash.verdict, 'known-good', JSON.stringify(e));
      return e;
    };
    assert.equal(explained('/usr/bin/tree').known_hash.package, 'tree');
    assert.equal(explained('/usr/bin/sudo').known_hash.match, 'path+md5');
    assert.equal(explained('/usr/bin/sudoedit').known_hash.package, 'sudo', "a symlink of the package's file list");
    assert.equal(explained('/etc/sudoers').known_hash.package, 'sudo', 'a conffile, by the digest dpkg recorded');
    assert.equal(explained('/etc/init.d/sudo').known_hash.package, 'sudo');
    assert.equal(explained('/etc/rc2.d/S01sudo').known_hash.package, 'sudo', "an init link to the package's own init script");
    assert.equal(explained('/etc/alternatives/pico').known_hash.package, 'nano', 'an alternatives link the database selects');
    assert.equal(explained('/usr/bin/pico').known_hash.package, 'nano');
    assert.equal(explained('/etc/ld.so.cache').known_hash.package, 'libc-bin', "ldconfig's cache, every library in it owned");
    if (editorBefore !== '/bin/nano') {
      // nano (priority 40) takes `editor` over vim (30) and ed (-100) in auto mode; slaves it has no value for go.
      assert.equal(explained('/etc/alternatives/editor').known_hash.package, 'nano');
    }
  });

  it('a file of an installed package tampered with afterwards alerts', async () => {
    appendFileSync('/usr/bin/tree', 'not from the package\n');
    const r = await runCustos(['check', ...args, '--json'], { timeoutMs: 300_000 });
    assert.equal(r.code, 1, r.stderr);
    const alerts = jsonLines<AlertJson>(r.stdout);
    assert.deepEqual(
      alerts.map((a) => `${a.rule.id} ${a.syscheck?.path ?? ''} ${a.known_hash?.verdict ?? ''}`),
      ['550 /usr/bin/tree unknown'],
    );
  });

  it('apt-get purge: the deletions are recorded with the package as the reason, zero alerts', async () => {
    copyFileSync('/usr/bin/nano', join(dir, 'nano'));
    apt('purge', ...PACKAGES);
    assert.deepEqual(installedQuietly(PACKAGES), []);
    const r = await runCustos(['check', ...args, '--json'], { timeoutMs: 300_000 });
    const alerts = jsonLines<AlertJson>(r.stdout);
    assert.deepEqual(
      alerts.map((a) => `${a.rule.id} ${a.syscheck?.event ?? ''} ${a.syscheck?.path ?? ''}`),
      [],
      r.stderr,
    );
    assert.equal(r.code, 0, r.stderr);
    const events = await recentEvents();
    for (const path of [
      '/usr/bin/tree',
      '/usr/bin/sudo',
      '/usr/bin/sudoedit',
      '/etc/sudoers',
      '/etc/rc2.d/S01sudo',
      '/etc/alternatives/pico',
      '/usr/bin/pico',
    ]) {
      const e = events.get(path);
      assert.ok(e !== undefined && e.syscheck.event === 'deleted', `${path}: ${JSON.stringify(e)}`);
      assert.equal(e.outcome, 'recorded', JSON.stringify(e));
      assert.equal(e.known_hash.match, 'removal', JSON.stringify(e));
      assert.match(e.reason ?? '', /package removal/);
    }
    assert.equal(events.get('/usr/bin/tree')?.known_hash.package, 'tree');
  });

  it("a removed package's file put back by hand alerts, though its content was once packaged", async () => {
    copyFileSync(join(dir, 'nano'), '/usr/bin/nano');
    try {
      const r = await runCustos(['check', ...args, '--json'], { timeoutMs: 300_000 });
      assert.equal(r.code, 1, r.stderr);
      const alerts = jsonLines<AlertJson>(r.stdout);
      assert.deepEqual(
        alerts.map((a) => `${a.rule.id} ${a.syscheck?.path ?? ''} ${a.known_hash?.verdict ?? ''}`),
        ['554 /usr/bin/nano unknown'],
      );
    } finally {
      rmSync('/usr/bin/nano', { force: true });
    }
  });

  it('dpkg run without the hook: the next check says the package changes are not explained (rule 568)', async () => {
    rmSync(HOOK);
    // Settle the baseline after the hand-made file went, so only what this step does is seen.
    assert.equal((await runCustos(['check', ...args], { timeoutMs: 300_000 })).code, 1, 'the hook file itself was deleted: alerted');
    apt('install', 'tree');
    const r = await runCustos(['check', ...args, '--json'], { timeoutMs: 300_000 });
    assert.equal(r.code, 1, r.stderr);
    const rules = jsonLines<AlertJson>(r.stdout).map((a) => `${a.rule.id} ${a.syscheck?.path ?? ''}`);
    assert.ok(rules.includes('568 '), rules.join(', '));
    assert.ok(rules.includes('554 /usr/bin/tree'), `unexplained without the import: ${rules.join(', ')}`);
    assert.match(r.stderr, /rule 568/);
    const caught = await runCustos(['hashdb', 'import', 'dpkg', ...args, '--changed-only', '--json']);
    assert.equal(caught.code, 0, caught.stderr);
    assert.equal((JSON.parse(caught.stdout) as { packages: number }).packages, 1, 'the import catches up with exactly what changed');
    const quiet = await runCustos(['check', ...args, '--json'], { timeoutMs: 300_000 });
    assert.equal(quiet.code, 0, quiet.stdout + quiet.stderr);
  });

  async function recentEvents(): Promise<Map<string, EventJson>> {
    const r = await runCustos(['events', ...args, '--json', '--since', '1h']);
    assert.equal(r.code, 0, r.stderr);
    // The newest event of each path.
    return new Map(jsonLines<EventJson>(r.stdout).map((e) => [e.syscheck.path, e]));
  }
});
