import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { InstalledPackage, PackageUpdate } from '../../src/hashdb/host-packages.js';
import type { KnownHashEngine } from './known-hash-store-contract.js';

const md5 = (s: string): Buffer => createHash('md5').update(s).digest();
const p = (s: string): Buffer => Buffer.from(s);
const source = { kind: 'dpkg-local' as const, name: 'dpkg /', host: 'web1' };
const at = new Date('2026-11-29T12:00:00Z');

function pkg(name: string, version: string, files: Record<string, string>): PackageUpdate {
  const installed: InstalledPackage = { key: name, package: { name, version, arch: 'amd64' }, stamp: `${name}=${version}` };
  const rows = Object.entries(files).map(([path, content]) => ({ digest: md5(content), path: p(path), package: installed.package }));
  return { installed, rows, owns: Object.keys(files).map(p), counts: { md5sums: rows.length, conffiles: 0, symlinks: 0, malformed: 0 } };
}

/** The host-package state's contract (HostPackageStore, part of the known-hash store), answered the same by every engine. */
export function describeHostPackagesContract(engine: string, e: KnownHashEngine): void {
  describe(`installed-package state in the known-hash database (${engine})`, () => {
    it('a removed package explains the deletion of its paths, only those no installed package owns, only on its host', async () => {
      const store = await e.open('removal');
      await store.applyPackageState(source, {
        updated: [
          pkg('tree', '2.1', { '/usr/bin/tree': 'tree' }),
          pkg('shared-a', '1', { '/usr/share/common': 'x', '/usr/bin/a': 'a' }),
          pkg('shared-b', '1', { '/usr/share/common': 'x' }),
        ],
        removed: [],
        databaseStamp: 's1',
        at,
      });
      assert.deepEqual([...(await store.installedPackages(source)).keys()].sort(), ['shared-a', 'shared-b', 'tree']);
      const ask = async (path: string) => (await store.lookupMany([{ path: p(path), hashes: {}, deleted: true }]))[0]?.removed ?? [];
      assert.deepEqual(await ask('/usr/bin/tree'), [], 'installed: its deletion is not explained');
      const summary = await store.applyPackageState(source, { updated: [], removed: ['tree', 'shared-a'], databaseStamp: 's2', at });
      assert.equal(summary.retiredPaths, 2, "/usr/bin/tree and /usr/bin/a; /usr/share/common is still shared-b's");
      const tree = await ask('/usr/bin/tree');
      assert.deepEqual(
        tree.map((r) => [r.package?.name, r.package?.version, r.reason, r.source.host]),
        [['tree', '2.1', 'removed with its package', 'web1']],
      );
      assert.deepEqual(await ask('/usr/share/common'), []);
      assert.equal(await store.databaseStamp(source), 's2');
      // Reinstalled: owned again, so its deletion alerts again.
      await store.applyPackageState(source, { updated: [pkg('tree', '2.2', { '/usr/bin/tree': 'tree 2.2' })], removed: [], databaseStamp: 's3', at });
      assert.deepEqual(await ask('/usr/bin/tree'), []);
      await store.close();
    });

    it('an upgrade that drops a file explains its deletion, naming the new version', async () => {
      const store = await e.open('upgrade');
      await store.applyPackageState(source, {
        updated: [pkg('demo', '1', { '/usr/bin/demo': 'v1', '/usr/bin/old-helper': 'h' })],
        removed: [],
        databaseStamp: 's1',
        at,
      });
      await store.applyPackageState(source, { updated: [pkg('demo', '2', { '/usr/bin/demo': 'v2' })], removed: [], databaseStamp: 's2', at });
      const [old] = await store.lookupMany([{ path: p('/usr/bin/old-helper'), hashes: {}, deleted: true }]);
      assert.deepEqual(
        old?.removed?.map((r) => r.reason),
        ['no longer shipped (package upgraded to 2)'],
      );
      await store.close();
    });

    it('host-scoped content counts only for the version installed now: an old version put back is not known', async () => {
      const store = await e.open('versions');
      await store.applyPackageState(source, { updated: [pkg('sudo', '1.9.13p3-1', { '/usr/bin/sudo': 'vulnerable' })], removed: [], databaseStamp: 's1', at });
      const hashes = (content: string) => ({ md5: md5(content).toString('hex') });
      assert.equal((await store.lookup(p('/usr/bin/sudo'), hashes('vulnerable'))).atPath.length, 1);
      await store.applyPackageState(source, {
        updated: [pkg('sudo', '1.9.13p3-1+deb12u1', { '/usr/bin/sudo': 'patched' })],
        removed: [],
        databaseStamp: 's2',
        at,
      });
      assert.deepEqual((await store.lookup(p('/usr/bin/sudo'), hashes('vulnerable'))).atPath, [], 'the downgrade is not explained');
      assert.equal((await store.lookup(p('/usr/bin/sudo'), hashes('patched'))).atPath[0]?.package?.version, '1.9.13p3-1+deb12u1');
      // A package archive's rows (no installed state) are not filtered.
      const deb = await store.beginImport({ kind: 'manual', name: 'debs' });
      await deb.add([{ digest: md5('vulnerable'), path: p('/usr/bin/sudo'), package: { name: 'sudo', version: '1.9.13p3-1', arch: 'amd64' } }]);
      await deb.finish();
      assert.deepEqual(
        (await store.lookup(p('/usr/bin/sudo'), hashes('vulnerable'))).atPath.map((e) => e.source.kind),
        ['manual'],
      );
      await store.close();
    });

    it('derived side effects are replaced, and a link whose cause is gone is retired as removed', async () => {
      const store = await e.open('derived');
      const sudo = { name: 'sudo', version: '1', arch: 'amd64' };
      const link = (path: string, target: string) => ({
        row: { digest: createHash('sha256').update(target).digest(), path: p(path), package: sudo },
        because: 'init:/etc/init.d/sudo',
      });
      await store.replaceDerived(
        source,
        [link('/etc/rc2.d/S01sudo', '../init.d/sudo')],
        [{ path: p('/etc/alternatives/editor.da.1.gz'), reason: 'alternatives: /bin/nano provides no editor.da.1.gz' }],
        new Map(),
      );
      const target = (t: string) => ({ sha256: createHash('sha256').update(t).digest('hex') });
      assert.equal((await store.lookup(p('/etc/rc2.d/S01sudo'), target('../init.d/sudo'))).atPath[0]?.source.name, 'dpkg / (maintainer scripts)');
      const [expected] = await store.lookupMany([{ path: p('/etc/alternatives/editor.da.1.gz'), hashes: {}, deleted: true }]);
      assert.equal(expected?.removed?.length, 1);
      assert.deepEqual(await store.derivedCauses(source), ['init:/etc/init.d/sudo']);
      // Next derivation: the link is gone, and so is the init script's package.
      await store.replaceDerived(source, [], [], new Map([['init:/etc/init.d/sudo', 'link to /etc/init.d/sudo, which went with its package']]));
      assert.deepEqual((await store.lookup(p('/etc/rc2.d/S01sudo'), target('../init.d/sudo'))).atPath, [], 'no longer known-good');
      const [retired] = await store.lookupMany([{ path: p('/etc/rc2.d/S01sudo'), hashes: {}, deleted: true }]);
      assert.deepEqual(
        retired?.removed?.map((r) => r.reason),
        ['link to /etc/init.d/sudo, which went with its package'],
      );
      const [noLonger] = await store.lookupMany([{ path: p('/etc/alternatives/editor.da.1.gz'), hashes: {}, deleted: true }]);
      assert.deepEqual(noLonger?.removed ?? [], [], 'expected absences hold until the next derivation only');
      await store.close();
    });

    it('says which installed package owns a path, and which versions are installed', async () => {
      const store = await e.open('owners');
      assert.equal(await store.installedVersions(source), undefined, 'before the first import');
      await store.applyPackageState(source, {
        updated: [pkg('tree', '2.1', { '/usr/bin/tree': 'tree' }), pkg('demo', '1', { '/usr/bin/demo': 'demo' })],
        removed: [],
        databaseStamp: 's1',
        at,
      });
      const owners = await store.ownersOf(source, [p('/usr/bin/tree'), p('/usr/bin/none')]);
      assert.deepEqual([...owners], [['/usr/bin/tree', { name: 'tree', version: '2.1', arch: 'amd64' }]]);
      assert.deepEqual(await store.ownersOf({ ...source, host: 'other' }, [p('/usr/bin/tree')]), new Map());
      const versions = await store.installedVersions(source);
      assert.deepEqual(versions?.get('demo'), [{ version: '1', arch: 'amd64' }]);
      assert.deepEqual((await store.installedPackages(source)).get('tree')?.stamp, 'tree=2.1');
      await store.close();
    });
  });
}
