import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { buildDeb, dpkgInstall, makeDpkgRoot } from '../support/debian-packages.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

// Real packages built with dpkg-deb and installed with the real dpkg into roots of their own; real files chmodded
// and chowned as root. Packaged content is known-good only with the mode and owner its package ships (rule 575).

const NOBODY = 65534;
const content = (name: string): string => `#!/bin/sh\necho ${name}\n`;

/** A root with the demo package installed by dpkg, a config monitoring /usr, and how to run check on it. */
function packagedRoot(dir: string, name: string, monitored = '[/usr]') {
  const root = join(dir, `root-${name}`);
  const hashdb = join(dir, `hashdb-${name}.sqlite`);
  const db = join(dir, name, 'custos.db');
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'custos.yml'), `syscheck:\n  directories:\n    - path: ${monitored}\n`);
  const args = ['--config', join(dir, name, 'custos.yml'), '--db', db, '--hashdb', hashdb, '--root', root];
  const check = async (): Promise<{ code: number | null; alerts: Alert[]; out: string }> => {
    const r = await runCustos(['check', '--json', ...args]);
    return { code: r.code, alerts: jsonLines<Alert>(r.stdout), out: r.stdout + r.stderr };
  };
  const importDeb = async (deb: string): Promise<void> => {
    const r = await runCustos(['hashdb', 'import', 'deb', deb, '--hashdb', hashdb, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
  };
  const importDpkg = async (): Promise<void> => {
    const r = await runCustos(['hashdb', 'import', 'dpkg', '--root', root, '--hashdb', hashdb, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
  };
  const prepare = (): void => {
    makeDpkgRoot(root);
    // The root's own users and groups: owners are shown (and compared) by name, as the package names them.
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  };
  return { root, check, prepare, importDeb, importDpkg, alertsLog: (): string => readFileSync(join(dir, name, 'alerts.log'), 'utf8') };
}

const summary = (alerts: readonly Alert[]): string[] => alerts.map((a) => `${String(a.rule.id)} ${a.syscheck.path} ${a.known_hash.verdict}`);

describe('known package content with a mode or owner the package does not ship (rule 575)', () => {
  const dir = tempDir();
  let deb = '';
  before(() => {
    deb = buildDeb(dir, {
      name: 'custos-modes-demo',
      version: '1.0',
      files: [
        { path: 'usr/bin/mtool', content: content('mtool'), mode: 0o755 },
        { path: 'usr/bin/mhelper', content: content('mhelper'), mode: 0o755 },
        // A setuid program the package itself ships: a copy with its declared setuid bit is the package's.
        { path: 'usr/bin/msu', content: content('msu'), mode: 0o4755 },
      ],
    });
  });

  describe('declared by the .deb (tar header), imported', () => {
    const host = packagedRoot(dir, 'deb');
    before(async () => {
      host.prepare();
      dpkgInstall(host.root, deb);
      await host.importDeb(deb);
      await host.importDpkg();
      const baseline = await host.check();
      assert.equal(baseline.code, 0, baseline.out);
    });

    it('chmod u+s on a packaged binary alerts as 575 with the declared and actual mode in alerts.json and alerts.log', async () => {
      chmodSync(join(host.root, 'usr/bin/mtool'), 0o4755);
      const r = await host.check();
      assert.equal(r.code, 1, r.out);
      assert.deepEqual(summary(r.alerts), ['575 /usr/bin/mtool package-mismatch']);
      const a = r.alerts[0] as Alert;
      assert.equal(a.rule.level, 12);
      assert.deepEqual(
        [
          a.known_hash.package,
          a.known_hash.source,
          a.known_hash.declared_mode,
          a.known_hash.declared_owner,
          a.known_hash.declared_group,
          a.known_hash.actual_mode,
          a.known_hash.mismatch,
        ],
        ['custos-modes-demo', 'manual', '0755', 'root', 'root', '4755', 'setuid bit not declared'],
      );
      assert.match(
        a.full_log,
        /\nPackage custos-modes-demo 1\.0 \(manual\): declared mode 0755 root:root; actual mode 4755 root:root \(setuid bit not declared\)$/,
      );
      const log = host.alertsLog();
      assert.match(log, /Rule: 575 \(level 12\) -> 'Known package content with a mode or owner the package does not ship\.'/);
      assert.match(log, /declared mode 0755 root:root; actual mode 4755 root:root/);
    });

    it('a copy with the mode the package ships, at its path, is silent', async () => {
      // Back to the package's mode first: a permission change is reported (550) as for any file.
      chmodSync(join(host.root, 'usr/bin/mtool'), 0o755);
      assert.deepEqual(summary((await host.check()).alerts), ['550 /usr/bin/mtool known-good']);
      rmSync(join(host.root, 'usr/bin/mtool'));
      writeFileSync(join(host.root, 'usr/bin/mtool'), content('mtool'), { mode: 0o755 });
      chmodSync(join(host.root, 'usr/bin/mtool'), 0o755);
      const r = await host.check();
      assert.deepEqual(summary(r.alerts), [], r.out);
      assert.equal(r.code, 0);
    });

    it('a new file with packaged content: silent with the declared mode, 575 when setuid, 575 when chowned', async () => {
      const tool = join(host.root, 'usr/bin/mtool');
      rmSync(tool);
      assert.deepEqual(summary((await host.check()).alerts), ['553 /usr/bin/mtool unknown']);
      writeFileSync(tool, content('mtool'), { mode: 0o755 });
      chmodSync(tool, 0o755);
      assert.deepEqual(summary((await host.check()).alerts), [], 'the package ships it like this');
      rmSync(tool);
      await host.check();
      writeFileSync(tool, content('mtool'));
      chmodSync(tool, 0o6755);
      const setuid = await host.check();
      assert.deepEqual(summary(setuid.alerts), ['575 /usr/bin/mtool package-mismatch']);
      assert.equal(setuid.alerts[0]?.known_hash.mismatch, 'setuid bit not declared; setgid bit not declared');
      assert.equal(setuid.alerts[0]?.syscheck.event, 'added');
    });

    it('a packaged file chowned to another owner alerts as 575, naming both owners', async () => {
      chownSync(join(host.root, 'usr/bin/mhelper'), NOBODY, 0);
      const r = await host.check();
      assert.deepEqual(summary(r.alerts), ['575 /usr/bin/mhelper package-mismatch']);
      assert.equal(r.alerts[0]?.known_hash.actual_owner, 'nobody');
      assert.equal(r.alerts[0]?.known_hash.declared_owner, 'root');
      assert.match(r.alerts[0]?.known_hash.mismatch ?? '', /^owner nobody, declared root$/);
    });

    it('a copy of the setuid program the package ships, with its setuid bit, is silent', async () => {
      const su = join(host.root, 'usr/bin/msu');
      rmSync(su);
      copyFileSync(join(dir, 'custos-modes-demo-1.0/usr/bin/msu'), su);
      chmodSync(su, 0o4755);
      const r = await host.check();
      assert.deepEqual(summary(r.alerts), [], r.out);
    });
  });

  describe('the host dpkg database only (md5sums carry no mode): the mode observed at import', () => {
    const host = packagedRoot(dir, 'dpkg');
    before(async () => {
      host.prepare();
      dpkgInstall(host.root, deb);
      await host.importDpkg();
      const baseline = await host.check();
      assert.equal(baseline.code, 0, baseline.out);
    });

    it('a setuid copy at the package path alerts as 575, declared as observed at import; the right mode is silent', async () => {
      const tool = join(host.root, 'usr/bin/mtool');
      rmSync(tool);
      writeFileSync(tool, content('mtool'));
      chmodSync(tool, 0o4755);
      const r = await host.check();
      assert.deepEqual(summary(r.alerts), ['575 /usr/bin/mtool package-mismatch']);
      assert.deepEqual(
        [r.alerts[0]?.known_hash.source, r.alerts[0]?.known_hash.declared_mode, r.alerts[0]?.known_hash.declared_by],
        ['dpkg-local', '0755', 'observed at import'],
      );
      chmodSync(tool, 0o755);
      // Back to the package's mode: the permission change itself is still reported (550), as for any file.
      assert.deepEqual(summary((await host.check()).alerts), ['550 /usr/bin/mtool known-good']);
      rmSync(tool);
      writeFileSync(tool, content('mtool'));
      chmodSync(tool, 0o755);
      assert.deepEqual(summary((await host.check()).alerts), [], "a copy with the observed mode is the package's");
    });

    it('the packaged setuid program keeps its bit (observed at import with its MD5 matching)', async () => {
      const su = join(host.root, 'usr/bin/msu');
      rmSync(su);
      writeFileSync(su, content('msu'));
      chmodSync(su, 0o4755);
      assert.deepEqual(summary((await host.check()).alerts), []);
    });
  });
});

describe('the usrmerge alias applies only where the root is merged', () => {
  const dir = tempDir();
  let deb = '';
  before(() => {
    deb = buildDeb(dir, {
      name: 'custos-usrmerge-demo',
      version: '1.0',
      files: [
        { path: 'usr/bin/utool', content: content('utool'), mode: 0o755 },
        // Listed under /bin as bookworm packages still are: on a merged root dpkg puts it in /usr/bin.
        { path: 'bin/btool', content: content('btool'), mode: 0o755 },
      ],
    });
  });

  it('on a root where /bin is a real directory, /bin/utool is not explained by /usr/bin/utool (562)', async () => {
    const host = packagedRoot(dir, 'split', '[/usr, /bin]');
    host.prepare();
    mkdirSync(join(host.root, 'bin'));
    dpkgInstall(host.root, deb);
    await host.importDeb(deb);
    assert.equal((await host.check()).code, 0);
    copyFileSync(join(host.root, 'usr/bin/utool'), join(host.root, 'bin/utool'));
    chmodSync(join(host.root, 'bin/utool'), 0o755);
    const r = await host.check();
    assert.deepEqual(summary(r.alerts), ['562 /bin/utool known-elsewhere'], r.out);
    assert.equal(r.alerts[0]?.known_hash.known_path, '/usr/bin/utool');
  });

  it("on a merged root (/bin -> usr/bin), /usr/bin/btool is the package's /bin/btool", async () => {
    const host = packagedRoot(dir, 'merged');
    host.prepare();
    mkdirSync(join(host.root, 'usr/bin'), { recursive: true });
    symlinkSync('usr/bin', join(host.root, 'bin'));
    assert.equal((await host.check()).code, 0, 'the baseline, before the package');
    dpkgInstall(host.root, deb);
    await host.importDeb(deb);
    const r = await host.check();
    assert.deepEqual(summary(r.alerts), [], r.out);
    assert.equal(r.code, 0);
  });
});

describe('rpm: the header declares the mode and owner', () => {
  it('a setuid copy of a packaged file alerts as 575; a copy with the header mode is silent', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'SPECS'));
    writeFileSync(
      join(dir, 'SPECS/rpmmodes.spec'),
      [
        'Name: rpmmodes',
        'Version: 1.0',
        'Release: 1',
        'Summary: test',
        'License: MIT',
        'BuildArch: noarch',
        '%description',
        'test',
        '%install',
        'mkdir -p %{buildroot}/usr/bin',
        'echo rtool > %{buildroot}/usr/bin/rtool',
        'chmod 0755 %{buildroot}/usr/bin/rtool',
        '%files',
        '%attr(0755,root,root) /usr/bin/rtool',
        '',
      ].join('\n'),
    );
    execFileSync('rpmbuild', ['--define', `_topdir ${dir}`, '-bb', join(dir, 'SPECS/rpmmodes.spec')], { stdio: 'ignore' });
    const root = join(dir, 'root');
    execFileSync('rpm', ['--root', root, '--initdb']);
    execFileSync('rpm', ['--root', root, '-i', '--nodeps', '--noscripts', join(dir, 'RPMS/noarch/rpmmodes-1.0-1.noarch.rpm')], { stdio: 'ignore' });
    const hashdb = join(dir, 'hashdb.sqlite');
    writeFileSync(join(dir, 'custos.yml'), 'syscheck:\n  directories:\n    - path: /usr/bin\n');
    const check = ['check', '--json', '--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db'), '--hashdb', hashdb, '--root', root];
    assert.equal((await runCustos(['hashdb', 'import', 'rpm', '--root', root, '--hashdb', hashdb, '--quiet'])).code, 0);
    assert.equal((await runCustos(check)).code, 0);
    const tool = join(root, 'usr/bin/rtool');
    const original = readFileSync(tool);
    rmSync(tool);
    writeFileSync(tool, original);
    chmodSync(tool, 0o4755);
    const r = await runCustos(check);
    const alerts = jsonLines<Alert>(r.stdout);
    assert.deepEqual(summary(alerts), ['575 /usr/bin/rtool package-mismatch'], r.stdout + r.stderr);
    assert.deepEqual(
      [alerts[0]?.known_hash.source, alerts[0]?.known_hash.declared_mode, alerts[0]?.known_hash.declared_owner, alerts[0]?.known_hash.actual_mode],
      ['rpm', '0755', 'root', '4755'],
    );
    // Back to the header's mode: the permission change itself is reported (550) as for any file; then a fresh copy
    // with that mode is the package's.
    chmodSync(tool, 0o755);
    assert.deepEqual(summary(jsonLines<Alert>((await runCustos(check)).stdout)), ['550 /usr/bin/rtool known-good']);
    rmSync(tool);
    writeFileSync(tool, original);
    chmodSync(tool, 0o755);
    const fine = await runCustos(check);
    assert.deepEqual(summary(jsonLines<Alert>(fine.stdout)), [], fine.stdout + fine.stderr);
  });
});
