import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { buildDeb, clearSign, dpkgInstall, makeDpkgRoot, makeSigningKey } from '../support/debian-packages.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

interface EventJson {
  outcome: string;
  reason?: string;
  known_hash: { verdict: string; package?: string; version?: string; source?: string; match?: string; known_path?: string };
  syscheck: { path: string; event: string };
  rule?: { id: number };
}

describe('known hashes: a package upgrade is explained, tampering is not', () => {
  const dir = tempDir();
  const root = join(dir, 'root');
  const hashdb = join(dir, 'hashdb.sqlite');
  const args = ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db'), '--hashdb', hashdb, '--root', root];
  const evil = 'not from any package\n';
  let v2 = '';
  let other = '';

  before(() => {
    const files = (v: string) => [
      { path: 'usr/bin/demo-tool', content: `#!/bin/sh\necho demo ${v}\n`, mode: 0o755 },
      { path: 'usr/bin/demo-alias', content: '', hardLinkTo: 'usr/bin/demo-tool' },
      { path: 'usr/lib/demo/libdemo.so', content: `library ${v}\n` },
      { path: 'usr/lib/demo/libdemo.so.current', content: '', symlinkTo: `libdemo.so.${v}` },
      { path: 'usr/bin/demo-helper', content: 'helper, same in both versions\n', mode: 0o755 },
      { path: 'usr/share/doc/custos-demo/README', content: 'read me\n' },
      { path: 'etc/demo.conf', content: `setting=${v}\n` },
    ];
    const v1 = buildDeb(dir, { name: 'custos-demo', version: '1.0', files: files('1.0'), conffiles: ['/etc/demo.conf'] });
    v2 = buildDeb(dir, {
      name: 'custos-demo',
      version: '2.0',
      files: [...files('2.0'), { path: 'usr/share/custos-demo/new-in-2.0', content: 'new\n' }],
      conffiles: ['/etc/demo.conf'],
    });
    other = buildDeb(dir, { name: 'custos-other', version: '5.1', files: [{ path: 'usr/bin/other-tool', content: 'the other tool\n', mode: 0o755 }] });
    makeDpkgRoot(root);
    dpkgInstall(root, v1, other);
    writeFileSync(join(dir, 'custos.yml'), 'syscheck:\n  directories:\n    - path: [/usr, /etc]\n');
  });

  it('builds the baseline of the installed v1', async () => {
    const r = await runCustos(['check', ...args]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('imports v2 and the other package from the .debs, without installing them', async () => {
    const r = await runCustos(['hashdb', 'import', 'deb', v2, other, '--hashdb', hashdb, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { debs: number; rows: number; inserted: number };
    assert.equal(summary.debs, 2);
    assert.equal(summary.rows, 2 * 8 + 1, 'SHA-256 and MD5 of 7 v2 files (the hard link included) and 1 other file, and the symlink target');
    const again = JSON.parse((await runCustos(['hashdb', 'import', 'deb', v2, other, '--hashdb', hashdb, '--json'])).stdout) as { inserted: number };
    assert.equal(again.inserted, 0, 'importing again adds nothing twice');
  });

  it('imports a known-bad list', async () => {
    writeFileSync(join(dir, 'bad.txt'), `# a plain known-bad list\n${sha256(evil)} EvilTrojan\n`);
    const r = await runCustos(['hashdb', 'import', 'hashes', join(dir, 'bad.txt'), '--bad', '--hashdb', hashdb]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('records the upgrade as known-good, alerts on tampering, a misplaced packaged file and a known-bad file', async () => {
    dpkgInstall(root, v2);
    writeFileSync(join(root, 'usr/bin/demo-helper'), 'helper, now with a backdoor\n');
    copyFileSync(join(root, 'usr/bin/other-tool'), join(root, 'usr/share/doc/custos-demo/README'));
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/local/bin/evil'), evil);
    const r = await runCustos(['check', '--json', ...args]);
    assert.equal(r.code, 1, r.stderr);
    const alerts = jsonLines<Alert>(r.stdout);
    const byPath = new Map(alerts.map((a) => [a.syscheck.path, a]));
    assert.equal(byPath.get('/usr/bin/demo-helper')?.rule.id, '550');
    assert.equal(byPath.get('/usr/bin/demo-helper')?.known_hash.verdict, 'unknown');
    const misplaced = byPath.get('/usr/share/doc/custos-demo/README');
    assert.equal(misplaced?.rule.id, '562');
    assert.equal(misplaced?.known_hash.verdict, 'known-elsewhere');
    assert.equal(misplaced?.known_hash.known_path, '/usr/bin/other-tool');
    assert.equal(misplaced?.known_hash.package, 'custos-other');
    const bad = byPath.get('/usr/local/bin/evil');
    assert.equal(bad?.rule.id, '561');
    assert.equal(bad?.rule.level, 15);
    assert.equal(bad?.known_hash.verdict, 'known-bad');
    assert.equal(bad?.known_hash.label, 'EvilTrojan');
    const explained = [
      '/usr/bin/demo-tool',
      '/usr/bin/demo-alias',
      '/usr/lib/demo/libdemo.so',
      '/usr/lib/demo/libdemo.so.current',
      '/etc/demo.conf',
      '/usr/share/custos-demo/new-in-2.0',
    ];
    for (const path of explained) assert.equal(byPath.get(path), undefined, `${path} was explained by the package and must not alert`);
    assert.deepEqual(
      [...byPath.keys()].sort(),
      ['/usr/bin/demo-helper', '/usr/local/bin/evil', '/usr/share/doc/custos-demo/README'],
      'nothing else alerted: new directories are recorded, not alerted',
    );

    const events = jsonLines<EventJson>((await runCustos(['events', '--json', '--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db')])).stdout);
    for (const path of explained) {
      const e = events.find((ev) => ev.syscheck.path === path);
      assert.equal(e?.outcome, 'recorded', path);
      assert.equal(e?.known_hash.verdict, 'known-good', path);
      assert.equal(e?.known_hash.package, 'custos-demo', path);
      assert.equal(e?.known_hash.version, '2.0', path);
      assert.equal(e?.known_hash.match, 'path+sha256', path);
      assert.match(e?.reason ?? '', /known-good content: custos-demo 2\.0 \(manual\)/);
    }
  });

  it('advanced the baseline past the upgrade, so the next check is clean', async () => {
    const r = await runCustos(['check', '--json', ...args]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  it('alerts on a setuid bit the package does not ship on a known-good file, with the verdict attached (575)', async () => {
    chmodSync(join(root, 'usr/bin/demo-tool'), 0o4755);
    const r = await runCustos(['check', '--json', ...args]);
    const alerts = jsonLines<Alert>(r.stdout);
    const tool = alerts.find((a) => a.syscheck.path === '/usr/bin/demo-tool');
    assert.equal(tool?.rule.id, '575');
    assert.deepEqual(tool?.syscheck.changed_attributes, ['permission']);
    assert.equal(tool?.known_hash.verdict, 'package-mismatch');
    assert.deepEqual([tool?.known_hash.declared_mode, tool?.known_hash.actual_mode], ['0755', '4755']);
    assert.equal(statSync(join(root, 'usr/bin/demo-tool')).mode & 0o4000, 0o4000);
  });

  it('never silences a deletion', async () => {
    const remove = (await import('node:fs')).rmSync;
    remove(join(root, 'usr/share/custos-demo/new-in-2.0'));
    const alerts = jsonLines<Alert>((await runCustos(['check', '--json', ...args])).stdout);
    assert.equal(alerts.find((a) => a.syscheck.path === '/usr/share/custos-demo/new-in-2.0')?.rule.id, '553');
  });

  it('explains the lookup of a hash with its evidence', async () => {
    const content = readFileSync(join(root, 'usr/lib/demo/libdemo.so'));
    const r = await runCustos(['hashdb', 'lookup', sha256(content), '--path', '/usr/lib/demo/libdemo.so', '--root', root, '--hashdb', hashdb, '--json']);
    const out = JSON.parse(r.stdout) as { verdict: { verdict: string; package: string }; effect: string; evidence: unknown[] };
    assert.equal(out.verdict.verdict, 'known-good');
    assert.equal(out.verdict.package, 'custos-demo');
    assert.equal(out.effect, 'silence');
    const elsewhere = JSON.parse((await runCustos(['hashdb', 'lookup', sha256(content), '--path', '/tmp/x', '--hashdb', hashdb, '--json'])).stdout) as {
      verdict: { verdict: string };
    };
    assert.equal(elsewhere.verdict.verdict, 'known-elsewhere');
  });
});

describe('known hashes: the signed apt chain', () => {
  const dir = tempDir();
  const hashdb = join(dir, 'hashdb.sqlite');
  let deb = '';
  let unlisted = '';
  let keyring = '';
  let home = '';
  let release = '';

  before(() => {
    deb = buildDeb(dir, { name: 'custos-signed', version: '1.2-3', files: [{ path: 'usr/bin/signed-tool', content: 'signed\n', mode: 0o755 }] });
    unlisted = buildDeb(dir, { name: 'custos-unlisted', version: '1', files: [{ path: 'usr/bin/unlisted', content: 'x\n' }] });
    ({ home, keyring } = makeSigningKey(dir));
    const data = readFileSync(deb);
    const packages = `Package: custos-signed\nVersion: 1.2-3\nArchitecture: all\nFilename: pool/main/c/custos-signed/custos-signed_1.2-3_all.deb\nSize: ${data.length}\nSHA256: ${sha256(data)}\n\n`;
    const suite = join(dir, 'repo/dists/testing');
    mkdirSync(join(suite, 'main/binary-amd64'), { recursive: true });
    writeFileSync(join(suite, 'main/binary-amd64/Packages'), packages);
    release = [
      'Origin: Custos Test',
      'Label: Custos Test',
      'Suite: testing',
      'Codename: testing',
      `Date: ${new Date().toUTCString()}`,
      'Architectures: amd64',
      'Components: main',
      'SHA256:',
      ` ${sha256(packages)} ${Buffer.byteLength(packages)} main/binary-amd64/Packages`,
      '',
    ].join('\n');
    writeFileSync(join(suite, 'InRelease'), clearSign(home, release));
  });
  const importArgs = (...debs: string[]) => [
    'hashdb',
    'import',
    'deb',
    ...debs,
    '--apt-lists',
    join(dir, 'repo'),
    '--keyring',
    keyring,
    '--hashdb',
    hashdb,
    '--json',
  ];

  it('verifies InRelease → Packages → .deb and imports as deb-verified', async () => {
    const r = await runCustos(importArgs(deb));
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { verified: number; refused: unknown[]; inserted: number };
    assert.equal(summary.verified, 1);
    assert.deepEqual(summary.refused, []);
    assert.equal(summary.inserted, 2);
    const stats = JSON.parse((await runCustos(['hashdb', 'stats', '--hashdb', hashdb, '--json'])).stdout) as { sources: { kind: string; name: string }[] };
    assert.deepEqual(
      stats.sources.map((s) => `${s.kind}:${s.name}`),
      ['deb-verified:Custos Test testing'],
    );
  });

  it('refuses a .deb with one byte changed, and one the index does not list', async () => {
    const tampered = join(dir, 'tampered', 'custos-signed_1.2-3_all.deb');
    mkdirSync(join(dir, 'tampered'));
    copyFileSync(deb, tampered);
    appendFileSync(tampered, Buffer.from([0]));
    const r = await runCustos(importArgs(tampered, unlisted));
    assert.equal(r.code, 1);
    const summary = JSON.parse(r.stdout) as { verified: number; refused: { file: string; reason: string }[]; inserted: number };
    assert.equal(summary.verified, 0);
    assert.equal(summary.inserted, 0);
    // Both are refused on their hash, before they are parsed.
    assert.match(
      summary.refused.find((x) => x.file === tampered)?.reason ?? '',
      new RegExp(`SHA-256 ${sha256(readFileSync(tampered))}, \\d+ bytes\\) is not listed in any verified index; not parsed`),
    );
    assert.match(summary.refused.find((x) => x.file === unlisted)?.reason ?? '', /is not listed in any verified index; not parsed/);
  });

  it('with --keyring, compares the hash before parsing: a file that is not even a .deb is refused on its hash (issue 11, case 9)', async () => {
    const garbage = join(dir, 'garbage.deb');
    writeFileSync(garbage, 'not an ar archive at all');
    const r = await runCustos(importArgs(garbage));
    assert.equal(r.code, 1, r.stderr);
    const summary = JSON.parse(r.stdout) as { refused: { file: string; reason: string }[] };
    assert.match(summary.refused[0]?.reason ?? '', /is not listed in any verified index; not parsed/);
    assert.doesNotMatch(summary.refused[0]?.reason ?? '', /ar archive/);
  });

  it('refuses everything when one byte of the signed text changes', async () => {
    const inRelease = join(dir, 'repo/dists/testing/InRelease');
    const original = readFileSync(inRelease, 'utf8');
    writeFileSync(inRelease, original.replace('Suite: testing', 'Suite: testinG'));
    try {
      const r = await runCustos(importArgs(deb));
      assert.equal(r.code, 1);
      const summary = JSON.parse(r.stdout) as { verified: number; refused: { reason: string }[]; indexProblems: string[] };
      assert.equal(summary.verified, 0);
      assert.match(summary.indexProblems[0] ?? '', /signature does not verify/);
      assert.match(summary.refused[0]?.reason ?? '', /not listed in any verified index/);
    } finally {
      writeFileSync(inRelease, original);
    }
  });

  it('refuses a Packages index that does not match its signed hash', async () => {
    const packagesFile = join(dir, 'repo/dists/testing/main/binary-amd64/Packages');
    const original = readFileSync(packagesFile, 'utf8');
    writeFileSync(packagesFile, original.replace('Version: 1.2-3', 'Version: 1.2-4'));
    try {
      const r = await runCustos(importArgs(deb));
      assert.equal(r.code, 1);
      const summary = JSON.parse(r.stdout) as { indexProblems: string[] };
      assert.match(summary.indexProblems[0] ?? '', /does not match the SHA-256 signed in InRelease/);
    } finally {
      writeFileSync(packagesFile, original);
    }
  });
});
