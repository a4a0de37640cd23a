import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

interface LookupJson {
  verdict: { verdict: string; package?: string; source?: string; label?: string };
  effect: string;
  evidence: { source: string; path?: string; package?: string; bad?: boolean }[];
}

async function lookup(hashdb: string, hash: string, path?: string): Promise<LookupJson> {
  const r = await runCustos(['hashdb', 'lookup', hash, ...(path === undefined ? [] : ['--path', path]), '--hashdb', hashdb, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as LookupJson;
}

async function importJson(args: string[]): Promise<Record<string, unknown> & { rows: number; inserted: number }> {
  const r = await runCustos(['hashdb', 'import', ...args, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown> & { rows: number; inserted: number };
}

describe('hashdb import dpkg on this machine', () => {
  const hashdb = join(tempDir(), 'hashdb.sqlite');
  it('imports every md5sums entry and conffile, idempotently', { timeout: 120_000 }, async () => {
    const expected = Number(execSync('cat /var/lib/dpkg/info/*.md5sums | wc -l', { encoding: 'utf8' }).trim());
    const first = await importJson(['dpkg', '--hashdb', hashdb]);
    assert.equal(first.md5sumsEntries, expected);
    assert.equal(first.malformed, 0);
    assert.ok(Number(first.conffileEntries) > 0);
    const again = await importJson(['dpkg', '--hashdb', hashdb]);
    assert.equal(again.inserted, 0);
  });
  it('finds /usr/bin/ls by its MD5 as part of coreutils (usrmerge: dpkg lists bin/ls)', async () => {
    const md5 = createHash('md5').update(readFileSync('/usr/bin/ls')).digest('hex');
    const out = await lookup(hashdb, md5, '/usr/bin/ls');
    assert.equal(out.verdict.verdict, 'known-good');
    assert.equal(out.verdict.package, 'coreutils');
    assert.equal(out.verdict.source, 'dpkg-local');
    assert.ok(out.evidence.some((e) => e.path === '/usr/bin/ls' && e.package?.startsWith('coreutils ')));
  });
});

describe('hashdb import rpm', () => {
  const spec = (dir: string, version: string, extra: readonly string[]): void => {
    writeFileSync(
      join(dir, `SPECS/fimdemo-${version}.spec`),
      [
        'Name: fimdemo',
        `Version: ${version}`,
        'Release: 1',
        'Summary: test',
        'License: MIT',
        'BuildArch: noarch',
        '%description',
        'test',
        '%install',
        'mkdir -p %{buildroot}/usr/bin %{buildroot}/etc/fimdemo',
        `echo hello ${version} > %{buildroot}/usr/bin/fimdemo`,
        'echo conf > %{buildroot}/etc/fimdemo/fimdemo.conf',
        'ln -s fimdemo %{buildroot}/usr/bin/fimdemo-link',
        ...extra.map((f) => `echo ${f} > %{buildroot}${f}`),
        '%files',
        '/usr/bin/fimdemo',
        '/usr/bin/fimdemo-link',
        '%config(noreplace) /etc/fimdemo/fimdemo.conf',
        '%ghost /etc/fimdemo/ghost.log',
        ...extra,
        '',
      ].join('\n'),
    );
    execFileSync('rpmbuild', ['--define', `_topdir ${dir}`, '-bb', join(dir, `SPECS/fimdemo-${version}.spec`)], { stdio: 'ignore' });
  };

  it('imports the file digests and symlink targets of a real rpm database, skipping ghosts', { timeout: 60_000 }, async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'SPECS'));
    spec(dir, '1.0', []);
    const root = join(dir, 'root');
    execFileSync('rpm', ['--root', root, '--initdb']);
    execFileSync('rpm', ['--root', root, '-i', '--nodeps', '--noscripts', join(dir, 'RPMS/noarch/fimdemo-1.0-1.noarch.rpm')], { stdio: 'ignore' });
    const hashdb = join(dir, 'hashdb.sqlite');
    const summary = await importJson(['rpm', '--root', root, '--host', 'rpmhost', '--hashdb', hashdb]);
    assert.equal(summary.rows, 3, "the binary, the config file and the symlink's target");
    assert.equal(summary.skipped, 1, 'the %ghost file');
    const sha = createHash('sha256')
      .update(readFileSync(join(root, 'usr/bin/fimdemo')))
      .digest('hex');
    const r = await runCustos(['hashdb', 'lookup', sha, '--path', '/usr/bin/fimdemo', '--host', 'rpmhost', '--hashdb', hashdb, '--json']);
    const out = JSON.parse(r.stdout) as LookupJson;
    assert.equal(out.verdict.verdict, 'known-good');
    assert.equal(out.verdict.package, 'fimdemo');
    const otherHost = await lookup(hashdb, sha, '/usr/bin/fimdemo');
    assert.equal(otherHost.verdict.verdict, 'unknown', 'a host’s own package database applies to that host only');
  });

  it("follows upgrades and removals: the new version explained, the dropped file's deletion explained, the old content not", { timeout: 120_000 }, async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'SPECS'));
    spec(dir, '1.0', ['/usr/bin/fimdemo-old']);
    spec(dir, '2.0', []);
    const root = join(dir, 'root');
    execFileSync('rpm', ['--root', root, '--initdb']);
    const rpm = (...args: string[]) => execFileSync('rpm', ['--root', root, '--nodeps', '--noscripts', ...args], { stdio: 'ignore' });
    rpm('-i', join(dir, 'RPMS/noarch/fimdemo-1.0-1.noarch.rpm'));
    const v1 = readFileSync(join(root, 'usr/bin/fimdemo'));
    const hashdb = join(dir, 'hashdb.sqlite');
    // The host's own identity (its machine id), as the check judges with.
    const host: string[] = [];
    writeFileSync(join(dir, 'custos.yml'), 'syscheck:\n  directories:\n    - path: [/usr/bin, /etc]\n');
    const check = ['check', '--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db'), '--hashdb', hashdb, '--root', root, '--json'];
    assert.equal((await importJson(['rpm', '--root', root, ...host, '--hashdb', hashdb])).packages, 1);
    const baseline = await runCustos(check);
    assert.equal(baseline.code, 0, baseline.stdout + baseline.stderr);
    rpm('-U', join(dir, 'RPMS/noarch/fimdemo-2.0-1.noarch.rpm'));
    // Without an import, the next check says the rpm database changed unexplained (rule 568).
    const stale = await runCustos(check);
    assert.ok(
      jsonLines<{ rule: { id: number } }>(stale.stdout).some((a) => String(a.rule.id) === '568'),
      stale.stdout,
    );
    const incremental = await importJson(['rpm', '--root', root, ...host, '--changed-only', '--hashdb', hashdb]);
    // rpm names an installed package by name-version-release.arch, so an upgrade is the old one gone and the new one in.
    assert.deepEqual([incremental.packages, incremental.removedPackages, incremental.retiredPaths], [1, 1, 1], 'the upgrade, and the file 2.0 no longer ships');
    // The upgrade itself, judged after the import: not one alert (the check before advanced the baseline, so restore it).
    rpm('-U', '--oldpackage', join(dir, 'RPMS/noarch/fimdemo-1.0-1.noarch.rpm'));
    await importJson(['rpm', '--root', root, ...host, '--changed-only', '--hashdb', hashdb]);
    assert.equal((await runCustos(check)).code, 0, 'the downgrade by rpm, imported, is what is installed');
    rpm('-U', join(dir, 'RPMS/noarch/fimdemo-2.0-1.noarch.rpm'));
    await importJson(['rpm', '--root', root, ...host, '--changed-only', '--hashdb', hashdb]);
    const upgraded = await runCustos(check);
    assert.deepEqual(jsonLines(upgraded.stdout), [], upgraded.stderr);
    assert.equal(upgraded.code, 0);
    // The old binary put back by hand: content of a version that is not installed is not known-good.
    writeFileSync(join(root, 'usr/bin/fimdemo'), v1);
    const back = await runCustos(check);
    assert.deepEqual(
      jsonLines<{ rule: { id: number }; syscheck: { path: string } }>(back.stdout).map((a) => `${String(a.rule.id)} ${a.syscheck.path}`),
      ['550 /usr/bin/fimdemo'],
    );
    // Removed: every deletion explained by the removal.
    rpm('-e', 'fimdemo');
    await importJson(['rpm', '--root', root, ...host, '--changed-only', '--hashdb', hashdb]);
    const removed = await runCustos(check);
    assert.deepEqual(jsonLines(removed.stdout), [], removed.stderr);
  });
});

describe('hashdb import of reference lists', () => {
  const dir = tempDir();
  const hashdb = join(dir, 'hashdb.sqlite');
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

  it('reads an OSSEC md5 allowlist as is, hash-only (OSSEC matched it on any path)', async () => {
    const file = join(dir, 'md5db.db');
    const db = new Database(file);
    db.exec('CREATE TABLE files (md5sum VARCHAR(32), file VARCHAR(256), time DATETIME); CREATE UNIQUE INDEX files_idx ON files(md5sum);');
    db.prepare("INSERT INTO files VALUES (?, ?, date('now'))").run(md5('allowed\n'), 'usr/bin/allowed');
    db.prepare("INSERT INTO files VALUES (?, ?, date('now'))").run('xxx', 'usr/bin/placeholder');
    db.close();
    const summary = await importJson(['md5db', file, '--hashdb', hashdb]);
    assert.equal(summary.rows, 1);
    assert.equal(summary.malformed, 1);
    const out = await lookup(hashdb, md5('allowed\n'), '/usr/bin/allowed');
    assert.equal(out.verdict.verdict, 'known-elsewhere', 'path policy: a hash-only source never says good for this path');
    const view = new Database(hashdb, { readonly: true });
    assert.deepEqual(
      view.prepare('SELECT md5sum FROM files').pluck().all(),
      [md5('allowed\n')],
      'the files(md5sum, file, time) view keeps OSSEC queries working',
    );
    view.close();
  });

  it('reads an NSRL RDS v3 database (upper-case hex) as hash-only', async () => {
    const file = join(dir, 'rds.db');
    const db = new Database(file);
    db.exec(
      'CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL, crc32 VARCHAR NOT NULL, file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL, package_id INTEGER NOT NULL)',
    );
    db.exec(
      "CREATE TABLE VERSION (version VARCHAR UNIQUE NOT NULL, build_set VARCHAR NOT NULL, build_date TIMESTAMP, release_date TIMESTAMP NOT NULL, description VARCHAR NOT NULL); INSERT INTO VERSION VALUES ('2026.09.1', 'modern', NULL, '2026-09-01', 'test')",
    );
    const insert = db.prepare("INSERT INTO FILE VALUES (?, ?, ?, '0', ?, 1, 1)");
    insert.run(sha256('putty\n').toUpperCase(), 'A'.repeat(40), 'B'.repeat(32), 'putty.exe');
    insert.run(sha256('putty\n').toUpperCase(), 'A'.repeat(40), 'B'.repeat(32), 'putty-copy.exe');
    db.close();
    const summary = await importJson(['nsrl', file, '--hashdb', hashdb]);
    assert.equal(summary.rows, 2);
    assert.equal(summary.inserted, 1);
    const out = await lookup(hashdb, sha256('putty\n'), '/usr/local/bin/putty');
    assert.equal(out.verdict.verdict, 'known-elsewhere');
    assert.equal(out.verdict.source, 'nsrl');
  });

  it('reads a MalwareBazaar CSV export as known-bad, with the signature as label', async () => {
    const file = join(dir, 'full.csv');
    writeFileSync(
      file,
      [
        '################################################################',
        '# MalwareBazaar full malware samples dump (CSV)                #',
        '# "first_seen_utc","sha256_hash","md5_hash","sha1_hash","reporter","file_name","file_type_guess","mime_type","signature","clamav","vtpercent","imphash","ssdeep","tlsh"',
        `"2026-01-01 00:00:01","${sha256('malware\n')}","${md5('malware\n')}","${'c'.repeat(40)}","someone","dropper.sh","sh","text/x-shellscript","Mirai","n/a","n/a","n/a","n/a","n/a"`,
        '',
      ].join('\n'),
    );
    const summary = await importJson(['hashes', file, '--bad', '--hashdb', hashdb]);
    assert.equal(summary.format, 'malwarebazaar-csv');
    assert.equal(summary.rows, 3);
    const out = await lookup(hashdb, sha256('malware\n'), '/tmp/x');
    assert.equal(out.verdict.verdict, 'known-bad');
    assert.equal(out.verdict.label, 'Mirai');
    assert.equal((await lookup(hashdb, md5('malware\n'))).verdict.verdict, 'known-bad');
  });

  it('reads sha256sum output, escaped names included, at their paths', async () => {
    const tree = join(dir, 'tree');
    mkdirSync(tree);
    writeFileSync(join(tree, 'plain'), 'plain\n');
    writeFileSync(join(tree, 'new\nline'), 'odd\n');
    const manifest = join(dir, 'SHA256SUMS');
    writeFileSync(manifest, execFileSync('sh', ['-c', 'cd "$1" && sha256sum ./*', 'sh', tree]));
    assert.match(readFileSync(manifest, 'utf8'), /^\\/m, 'coreutils escapes the name with a newline');
    const summary = await importJson(['manifest', manifest, '--base', '/srv/app', '--hashdb', hashdb]);
    assert.equal(summary.rows, 2);
    assert.equal((await lookup(hashdb, sha256('plain\n'), '/srv/app/plain')).verdict.verdict, 'known-good');
    const odd = await runCustos(['hashdb', 'lookup', sha256('odd\n'), '--hashdb', hashdb, '--json']);
    assert.deepEqual(
      (JSON.parse(odd.stdout) as LookupJson).evidence.map((e) => e.path),
      ['/srv/app/new\\nline'],
    );
  });

  it('reads an Alpine installed database', async () => {
    const root = join(dir, 'alpine');
    mkdirSync(join(root, 'lib/apk/db'), { recursive: true });
    const sha1 = createHash('sha1').update('busybox\n').digest();
    writeFileSync(join(root, 'lib/apk/db/installed'), `P:busybox\nV:1.36.1-r2\nA:x86_64\nF:bin\nR:busybox\nZ:Q1${sha1.toString('base64')}\n\n`);
    const summary = await importJson(['apk', '--root', root, '--host', 'alpine1', '--hashdb', hashdb]);
    assert.equal(summary.rows, 1);
    const r = await runCustos(['hashdb', 'lookup', sha1.toString('hex'), '--path', '/bin/busybox', '--host', 'alpine1', '--hashdb', hashdb, '--json']);
    assert.equal((JSON.parse(r.stdout) as LookupJson).verdict.package, 'busybox');
  });

  it('reports a file that is not the format asked for with a clear error', async () => {
    const r = await runCustos(['hashdb', 'import', 'md5db', join(dir, 'SHA256SUMS'), '--hashdb', hashdb]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not an OSSEC md5 allowlist/);
  });
});

describe('hashdb apt-hook', () => {
  it(
    'installs a dpkg post-invoke hook whose command imports the dpkg database incrementally, and an apt hook for .debs only with --keyring',
    { timeout: 120_000 },
    async () => {
      const dir = tempDir();
      const parts = join(dir, 'apt.conf.d');
      const dpkgParts = join(dir, 'dpkg.cfg.d');
      mkdirSync(parts);
      mkdirSync(dpkgParts);
      writeFileSync(join(dir, 'apt.conf'), `Dir::Etc::Parts "${parts}";\n`);
      const hashdb = join(dir, 'hashdb.sqlite');
      const dirs = ['--apt-conf-dir', parts, '--dpkg-conf-dir', dpkgParts];
      const installed = await runCustos(['hashdb', 'apt-hook', 'install', ...dirs, '--hashdb', hashdb]);
      assert.equal(installed.code, 0, installed.stderr);
      assert.deepEqual(readdirSync(parts), [], "no apt hook without --keyring: dpkg's hook covers apt runs and dpkg -i alike");
      // dpkg's configuration syntax: an option per line without its dashes, the value's surrounding quotes stripped,
      // run with sh -c after every dpkg run.
      const line = readFileSync(join(dpkgParts, 'custos-known-hashes'), 'utf8')
        .split('\n')
        .find((l) => l.startsWith('post-invoke='));
      assert.ok(line !== undefined);
      const hook = line.slice('post-invoke='.length).replace(/^"(.*)"$/, '$1');
      assert.ok(hook.includes('hashdb import dpkg --changed-only'), hook);
      execFileSync('sh', ['-c', hook]);
      const stats = JSON.parse((await runCustos(['hashdb', 'stats', '--hashdb', hashdb, '--json'])).stdout) as {
        knownRows: number;
        sources: { kind: string; name: string }[];
      };
      assert.ok(stats.knownRows > 1000);
      assert.deepEqual(
        stats.sources.map((s) => s.kind),
        ['dpkg-local', 'dpkg-local'],
        'the packages, and the verified side effects of their maintainer scripts',
      );
      const second = await runCustos(['hashdb', 'import', 'dpkg', '--changed-only', '--hashdb', hashdb, '--json']);
      assert.equal((JSON.parse(second.stdout) as { packages: number }).packages, 0, 'nothing changed since the last import');
      // A failing import never fails dpkg, and says so where dpkg shows it.
      const blocked = join(dir, 'not-a-directory');
      writeFileSync(blocked, '');
      const failing = readFileSync(join(dpkgParts, 'custos-known-hashes'), 'utf8').replaceAll(hashdb, join(blocked, 'hashdb.sqlite'));
      const failingHook = (failing.split('\n').find((l) => l.startsWith('post-invoke=')) ?? '').slice('post-invoke='.length).replace(/^"(.*)"$/, '$1');
      const failed = spawnSync('sh', ['-c', failingHook], { encoding: 'utf8' });
      assert.equal(failed.status, 0, 'dpkg goes on');
      assert.match(failed.stderr, /custos: the known-hash import after dpkg failed/);
      // dpkg run for another root (a chroot, an image) must not be imported as this host's packages.
      execFileSync('sh', ['-c', hook], { env: { ...process.env, DPKG_ROOT: join(dir, 'chroot') } });
      const after = JSON.parse((await runCustos(['hashdb', 'stats', '--hashdb', hashdb, '--json'])).stdout) as { sources: unknown[] };
      assert.equal(after.sources.length, 2);

      const withDebs = await runCustos([
        'hashdb',
        'apt-hook',
        'install',
        ...dirs,
        '--hashdb',
        hashdb,
        '--keyring',
        '/usr/share/keyrings/debian-archive-keyring.gpg',
      ]);
      assert.equal(withDebs.code, 0, withDebs.stderr);
      const dump = execFileSync('apt-config', ['dump', '--format', '%f=%v%n'], {
        env: { ...process.env, APT_CONFIG: join(dir, 'apt.conf') },
        encoding: 'utf8',
      });
      const aptHook = dump
        .split('\n')
        .find((l) => l.startsWith('DPkg::Post-Invoke::='))
        ?.slice('DPkg::Post-Invoke::='.length);
      assert.ok(aptHook !== undefined && aptHook.includes('hashdb import deb') && aptHook.includes('--keyring'), dump);
      assert.equal((await runCustos(['hashdb', 'apt-hook', 'remove', ...dirs])).code, 0);
      assert.deepEqual([...readdirSync(parts), ...readdirSync(dpkgParts)], []);
    },
  );
});
