import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { linkDigest } from '../core/content-digests.js';
import type { PackageRef } from '../core/known-hash-policy.js';
import { goneCauses, verifySideEffects, type OwnersOf } from './dpkg-side-effects.js';

const pkg = (name: string): PackageRef => ({ name, version: '1', arch: 'amd64' });

/** Ownership as an installed-package table would answer it, for a root built by the test. */
function ownersFrom(table: Record<string, string>): OwnersOf {
  return async (paths) =>
    new Map(
      paths.flatMap((p) => (table[p.toString('latin1')] === undefined ? [] : [[p.toString('latin1'), pkg(table[p.toString('latin1')] as string)] as const])),
    );
}

/** A root (not usr-merged) with an alternatives group, init links, systemd links and an ld.so.cache built by ldconfig. */
function buildRoot(): string {
  const root = tempDir();
  for (const d of [
    'var/lib/dpkg/alternatives',
    'etc/alternatives',
    'etc/init.d',
    'etc/rc2.d',
    'etc/systemd/system/multi-user.target.wants',
    'usr/bin',
    'bin',
    'lib/systemd/system',
    'usr/lib/demo',
    'usr/local/lib',
  ]) {
    mkdirSync(join(root, d), { recursive: true });
  }
  for (const f of ['bin/nano', 'usr/bin/vim.basic', 'etc/init.d/demo', 'etc/init.d/planted', 'lib/systemd/system/demo.service'])
    writeFileSync(join(root, f), f);
  writeFileSync(
    join(root, 'var/lib/dpkg/alternatives/editor'),
    [
      'auto',
      '/usr/bin/editor',
      'editor.1.gz',
      '/usr/share/man/man1/editor.1.gz',
      '',
      '/bin/nano',
      '40',
      '',
      '/usr/bin/vim.basic',
      '30',
      '/usr/share/man/man1/vim.1.gz',
      '',
      '',
    ].join('\n'),
  );
  symlinkSync('/bin/nano', join(root, 'etc/alternatives/editor'));
  symlinkSync('/etc/alternatives/editor', join(root, 'usr/bin/editor'));
  symlinkSync('../init.d/demo', join(root, 'etc/rc2.d/S01demo'));
  symlinkSync('../init.d/planted', join(root, 'etc/rc2.d/S01planted'));
  symlinkSync('/lib/systemd/system/demo.service', join(root, 'etc/systemd/system/multi-user.target.wants/demo.service'));
  symlinkSync('/dev/null', join(root, 'etc/systemd/system/masked.service'));
  // A real library, and a real cache of it built by ldconfig for this root.
  const libc = execFileSync('sh', ['-c', "ldconfig -p | awk '/libc.so.6 .*x86-64/ {print $NF; exit}'"], { encoding: 'utf8' }).trim();
  copyFileSync(libc, join(root, 'usr/lib/demo/libc.so.6'));
  writeFileSync(join(root, 'etc/ld.so.conf'), '/usr/lib/demo\n');
  execFileSync('ldconfig', ['-r', root, '-X']);
  return root;
}

describe('maintainer-script side effects', () => {
  const owned = {
    '/bin/nano': 'nano',
    '/usr/bin/vim.basic': 'vim',
    '/etc/init.d/demo': 'demo',
    '/lib/systemd/system/demo.service': 'demo',
    '/usr/lib/demo/libc.so.6': 'libc6',
    '/sbin/ldconfig': 'libc-bin',
  };

  it('explains what checks out against the installed packages, and nothing else', async () => {
    const root = buildRoot();
    const effects = await verifySideEffects(root, ownersFrom(owned), 'all');
    const byPath = new Map(effects.entries.map((e) => [e.row.path?.toString(), e]));
    const target = (path: string) => byPath.get(path)?.row.digest.toString('hex');
    assert.equal(target('/etc/alternatives/editor'), linkDigest(Buffer.from('/bin/nano')));
    assert.equal(byPath.get('/etc/alternatives/editor')?.row.package?.name, 'nano');
    assert.equal(target('/usr/bin/editor'), linkDigest(Buffer.from('/etc/alternatives/editor')));
    assert.deepEqual(
      effects.absent.map((a) => a.path.toString()),
      ['/etc/alternatives/editor.1.gz', '/usr/share/man/man1/editor.1.gz'],
      'nano provides no editor.1.gz',
    );
    assert.equal(byPath.get('/etc/rc2.d/S01demo')?.row.package?.name, 'demo');
    assert.equal(byPath.has('/etc/rc2.d/S01planted'), false, 'an init script no package owns');
    assert.ok(
      effects.unexplained.some((u) => u.includes('/etc/rc2.d/S01planted')),
      effects.unexplained.join('\n'),
    );
    assert.equal(byPath.get('/etc/systemd/system/multi-user.target.wants/demo.service')?.row.package?.name, 'demo');
    assert.equal(byPath.has('/etc/systemd/system/masked.service'), false, 'masking is never explained here');
    assert.equal(byPath.get('/etc/ld.so.cache')?.row.package?.name, 'libc-bin');
  });

  it('an alternative set by hand against auto mode, and a library no package owns, stay unexplained', async () => {
    const root = buildRoot();
    execFileSync('ln', ['-sfn', '/usr/bin/vim.basic', join(root, 'etc/alternatives/editor')]);
    // A second libc where the loader looks first: the classic shadowing of a system library.
    copyFileSync(join(root, 'usr/lib/demo/libc.so.6'), join(root, 'usr/local/lib/libc.so.6'));
    writeFileSync(join(root, 'etc/ld.so.conf'), '/usr/local/lib\n/usr/lib/demo\n');
    execFileSync('ldconfig', ['-r', root, '-X']);
    const trusted = await verifySideEffects(root, ownersFrom(owned), 'all');
    assert.deepEqual(trusted.localLibraries, ['/usr/local/lib/libc.so.6'], "a full import takes the host's own libraries as they are");
    const effects = await verifySideEffects(root, ownersFrom(owned), new Set());
    const paths = effects.entries.map((e) => e.row.path?.toString());
    assert.equal(paths.includes('/etc/alternatives/editor'), false);
    assert.equal(paths.includes('/etc/ld.so.cache'), false);
    assert.ok(
      effects.unexplained.some((u) => /editor -> \/usr\/bin\/vim.basic is not what the auto group editor selects/.test(u)),
      effects.unexplained.join('\n'),
    );
    assert.ok(
      effects.unexplained.some((u) => u.includes('/usr/local/lib/libc.so.6')),
      effects.unexplained.join('\n'),
    );
    const again = await verifySideEffects(root, ownersFrom(owned), new Set(trusted.localLibraries));
    assert.ok(
      again.entries.some((e) => e.row.path?.toString() === '/etc/ld.so.cache'),
      'trusted by the last full import',
    );
  });

  it('a link is retired only when its cause went: the init script unowned, the alternatives group unregistered', async () => {
    const root = buildRoot();
    const gone = await goneCauses(root, ownersFrom({ '/etc/init.d/demo': 'demo' }), [
      'init:/etc/init.d/demo',
      'init:/etc/init.d/sudo',
      'alt:editor',
      'alt:pico',
      'ldcache',
    ]);
    assert.deepEqual([...gone.keys()].sort(), ['alt:pico', 'init:/etc/init.d/sudo']);
  });
});
