import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mkfifoSync, mknodCharSync } from '../../test/support/mkfifo.js';
import { syscheckFor, walkAll } from '../../test/support/scan-helpers.js';
import { bytesPath, tempDir } from '../../test/support/temp-dir.js';
import { constants } from 'node:fs';
import { pathKey } from '../core/path-bytes.js';
import { compileScanScope } from '../core/scan-scope.js';
import { ignoresAround, optTempDir } from '../../test/support/root-scope.js';
import { readMountTable } from './mount-table.js';
import { walkTree } from './walk-tree.js';

describe('walkTree', () => {
  const root = tempDir();
  mkdirSync(join(root, 'a/b'), { recursive: true });
  mkdirSync(join(root, 'a-x'));
  writeFileSync(join(root, 'a/b/f'), 'f');
  writeFileSync(join(root, 'a/z'), 'z');
  writeFileSync(join(root, 'a-x/y'), 'y');
  writeFileSync(join(root, 'a.txt'), 't');

  it('yields entries in path-key order (depth-first, siblings by name bytes)', () => {
    const items = walkAll(syscheckFor([`${root}/`]));
    for (const item of items) assert.deepEqual(item.key, pathKey(item.path), 'each key is the pathKey of its path');
    const keys = items.map((i) => i.key);
    const sorted = [...keys].sort((a, b) => Buffer.compare(a, b));
    assert.deepEqual(keys, sorted);
    assert.deepEqual(
      items.map((i) => i.path.toString().slice(root.length)),
      ['', '/a', '/a/b', '/a/b/f', '/a/z', '/a-x', '/a-x/y', '/a.txt'],
    );
  });

  it('passes over a directory removed after its parent was listed, as absent rather than unscanned', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'tmp-1/deep'), { recursive: true });
    writeFileSync(join(dir, 'tmp-1/deep/f'), 'f');
    writeFileSync(join(dir, 'z'), 'z');
    const seen: string[] = [];
    const scope = compileScanScope(syscheckFor([`${dir}/`]));
    for (const item of walkTree(scope, { mounts: readMountTable(syscheckFor([]).skip) })) {
      seen.push(`${item.kind} ${item.path.toString().slice(dir.length)}`);
      // The root's entries are listed by now: tmp-1 goes before the walk reaches it.
      if (item.path.toString() === join(dir, 'a')) rmSync(join(dir, 'tmp-1'), { recursive: true });
    }
    assert.deepEqual(seen, ['entry ', 'entry /a', 'entry /z']);
  });

  it('respects recursion_level: 0 lists the entries directly inside only', () => {
    const items = walkAll(syscheckFor([{ path: root, recursionLevel: 0 }]));
    assert.deepEqual(
      items.map((i) => i.path.toString().slice(root.length)),
      ['', '/a', '/a-x', '/a.txt'],
    );
  });

  it('does not read ignored paths, and restrict keeps matching files only', () => {
    const s = syscheckFor([{ path: root, restrict: '.txt$' }], { ignore: [{ kind: 'path', source: join(root, 'a') }] });
    const items = walkAll(s);
    assert.deepEqual(
      items.map((i) => i.path.toString().slice(root.length)),
      ['', '/a-x', '/a.txt'],
    );
  });

  it('applies a nested directory’s own options below it', () => {
    const s = syscheckFor([
      { path: root, recursionLevel: 0 },
      { path: join(root, 'a/b'), recursionLevel: 5 },
    ]);
    const items = walkAll(s);
    assert.deepEqual(
      items.map((i) => i.path.toString().slice(root.length)),
      ['', '/a', '/a/b', '/a/b/f', '/a-x', '/a.txt'],
    );
  });

  it('walks FIFOs, sockets, devices and symlink loops without hanging or escaping', { timeout: 10_000 }, async () => {
    const dir = tempDir();
    mkfifoSync(join(dir, 'fifo'));
    mknodCharSync(join(dir, 'null'), 1, 3);
    symlinkSync('loopB', join(dir, 'loopA'));
    symlinkSync('loopA', join(dir, 'loopB'));
    mkdirSync(join(dir, 'sub'));
    symlinkSync('..', join(dir, 'sub/up'));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(join(dir, 'sock'), resolve));
    try {
      for (const follow of [false, true]) {
        const items = walkAll(syscheckFor([{ path: dir, followSymlinks: follow }]));
        const byName = new Map(items.filter((i) => i.kind === 'entry').map((i) => [i.path.toString().slice(dir.length + 1), i]));
        const fmt = (name: string): number | undefined => {
          const i = byName.get(name);
          return i?.kind === 'entry' ? i.stat.format : undefined;
        };
        assert.equal(fmt('fifo'), constants.S_IFIFO);
        assert.equal(fmt('sock'), constants.S_IFSOCK);
        assert.equal(fmt('null'), constants.S_IFCHR);
        if (!follow) {
          assert.equal(fmt('loopA'), constants.S_IFLNK);
          assert.equal(fmt('sub/up'), constants.S_IFLNK);
        } else {
          const loop = byName.get('loopA');
          assert.equal(loop?.kind === 'entry' ? loop.issue?.code : undefined, 'symlink-loop');
          const up = byName.get('sub/up');
          assert.equal(up?.kind === 'entry' ? up.issue?.code : undefined, 'symlink-loop', 'sub/up leads back to an ancestor');
          assert.equal(items.filter((i) => i.kind === 'entry').length, 8);
        }
      }
    } finally {
      server.close();
    }
  });

  it('keeps names with invalid UTF-8 and newlines as exact bytes', () => {
    const dir = tempDir();
    const bad = bytesPath(dir, '/bad', Buffer.from([0xff, 0xfe]), '.txt');
    const nl = bytesPath(dir, '/new\nline');
    writeFileSync(bad, 'x');
    writeFileSync(nl, 'y');
    const paths = walkAll(syscheckFor([dir])).map((i) => i.path);
    assert.ok(paths.some((p) => p.equals(bad)));
    assert.ok(paths.some((p) => p.equals(nl)));
  });

  it('skips pseudo file systems (/proc) as unscanned instead of walking them', () => {
    const items = walkAll(syscheckFor(['/proc']));
    assert.equal(items.length, 1);
    assert.equal(items[0]?.kind, 'unscanned');
  });

  it('reports a path over PATH_MAX as unscanned, never aborting the walk', () => {
    const dir = tempDir();
    const name = 'd'.repeat(250);
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      let depth = 0;
      while (dir.length + (depth + 1) * 251 < 4095 + 251) {
        mkdirSync(name);
        process.chdir(name);
        depth++;
      }
      writeFileSync('deep-file', 'x');
    } finally {
      process.chdir(cwd);
    }
    const items = walkAll(syscheckFor([dir]));
    const unscanned = items.filter((i) => i.kind === 'unscanned');
    assert.equal(unscanned.length, 1);
    assert.equal(unscanned[0]?.kind === 'unscanned' ? unscanned[0].issue.code : '', 'path-too-long');
    assert.ok(items.every((i) => i.path.length <= 4095 || i.kind === 'unscanned'));
  });

  it('walks `/` itself: the root entry, then below it, with ignores applied and ignored mount points not reported', () => {
    const kept = optTempDir();
    mkdirSync(join(kept, 'sub'));
    writeFileSync(join(kept, 'sub/f'), 'f');
    const ignore = [...ignoresAround(kept), '/proc', '/sys', '/dev'].map((source) => ({ kind: 'path' as const, source }));
    const items = walkAll(syscheckFor(['/'], { ignore }));
    assert.deepEqual(
      items.map((i) => `${i.kind} ${String(i.path)}`),
      ['/', '/opt', kept, join(kept, 'sub'), join(kept, 'sub/f')].map((path) => `entry ${path}`),
    );
    assert.deepEqual(items[0]?.key, Buffer.of(0), 'the root is keyed as a lone NUL, before its children');
    for (const item of items) assert.deepEqual(item.key, pathKey(item.path));
  });

  it('walks `/` of a file system mounted elsewhere (--root) as the directory it is mounted at', () => {
    const mounted = tempDir();
    mkdirSync(join(mounted, 'etc'));
    writeFileSync(join(mounted, 'etc/hosts'), 'h');
    const scope = compileScanScope(syscheckFor(['/']));
    const items = [...walkTree(scope, { mounts: readMountTable(scope.source.syscheck.skip), rootDir: Buffer.from(mounted) })];
    assert.deepEqual(
      items.map((i) => String(i.path)),
      ['/', '/etc', '/etc/hosts'],
    );
  });
});
