import assert from 'node:assert/strict';
import { chmodSync, constants, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mkfifoSync } from '../../test/support/mkfifo.js';
import { syscheckFor } from '../../test/support/scan-helpers.js';
import { bytesPath, tempDir } from '../../test/support/temp-dir.js';
import type { SyscheckConfig } from '../core/config/custos-config.js';
import { compileScanScope } from '../core/scan-scope.js';
import { readMountTable } from './mount-table.js';
import { threadedWalk, WalkThread } from './threaded-walk.js';
import type { PackedEntry } from './walk-chunk.js';
import { walkTree, type WalkItem } from './walk-tree.js';

/** Everything a consumer can see of an item, in a comparable form. */
function describeItem(item: WalkItem): unknown {
  if (item.kind === 'unscanned')
    return { kind: item.kind, path: item.path.toString('hex'), key: item.key.toString('hex'), includesSelf: item.includesSelf, issue: item.issue };
  return {
    kind: item.kind,
    path: item.path.toString('hex'),
    key: item.key.toString('hex'),
    root: item.root.path.toString('hex'),
    directory: item.root.directory,
    stat: item.stat,
    linkTarget: item.linkTarget?.toString('hex'),
    readPath: item.readPath?.toString('hex'),
    issue: item.issue,
  };
}

async function walkInThread(syscheck: SyscheckConfig, limitTo: string[] = []): Promise<unknown[]> {
  const items: unknown[] = [];
  for (const item of threadedWalk(compileScanScope(syscheck, limitTo), { mounts: readMountTable(syscheck.skip) })) {
    if (item.kind === 'wait') await item.until;
    else items.push(describeItem(item));
  }
  return items;
}

function walkHere(syscheck: SyscheckConfig, limitTo: string[] = []): unknown[] {
  return [...walkTree(compileScanScope(syscheck, limitTo), { mounts: readMountTable(syscheck.skip) })].map(describeItem);
}

describe('threadedWalk', () => {
  const root = tempDir();
  // More entries than one chunk, in many directories, with everything the walk treats specially.
  for (let d = 0; d < 60; d++) {
    mkdirSync(join(root, `d${d}`, 'sub'), { recursive: true });
    for (let f = 0; f < 40; f++) writeFileSync(join(root, `d${d}`, `f${f}`), `${d}/${f}`);
    writeFileSync(join(root, `d${d}`, 'sub', 'deep'), 'x');
  }
  writeFileSync(bytesPath(root, '/bad-', Buffer.from([0xff, 0x0a, 0xfe])), 'bad name');
  mkfifoSync(join(root, 'fifo'));
  symlinkSync('d1/f1', join(root, 'link-to-file'));
  symlinkSync('d2', join(root, 'link-to-dir'));
  symlinkSync('loop-b', join(root, 'loop-a'));
  symlinkSync('loop-a', join(root, 'loop-b'));
  mkdirSync(join(root, 'locked'));
  writeFileSync(join(root, 'locked', 'secret'), 's');
  chmodSync(join(root, 'locked'), 0);

  it('yields exactly what the walk yields in this thread, in the same order, across many chunks', async () => {
    for (const follow of [false, true]) {
      const config = syscheckFor([{ path: root, followSymlinks: follow }]);
      const here = walkHere(config);
      assert.ok(here.length > 2 * 1024, `the tree spans several chunks (${here.length} items)`);
      assert.deepEqual(await walkInThread(config), here);
    }
  });

  it('compiles the same scope in the thread: nested options, ignores, restrict and command-line paths', async () => {
    const config = syscheckFor(
      [
        { path: root, recursionLevel: 1 },
        { path: join(root, 'd3'), recursionLevel: 5, restrict: 'f1' },
      ],
      {
        ignore: [
          { kind: 'path', source: join(root, 'd4') },
          { kind: 'sregex', source: 'f2$' },
        ],
      },
    );
    assert.deepEqual(await walkInThread(config), walkHere(config));
    const limited = [join(root, 'd3'), join(root, 'd7', 'sub')];
    assert.deepEqual(await walkInThread(config, limited), walkHere(config, limited));
  });

  it('walks ahead before it is read (a head start), and hands over the same items', async () => {
    const config = syscheckFor([root]);
    const thread = new WalkThread(compileScanScope(config), { mounts: readMountTable(config.skip) }, { headStart: 32 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const items: unknown[] = [];
    for (const item of thread.items()) {
      if (item.kind === 'wait') await item.until;
      else items.push(describeItem(item));
    }
    assert.deepEqual(items, walkHere(config));
  });

  it('leaves out the entries a consumer takes care of in place, and only those', async () => {
    const config = syscheckFor([root]);
    const scope = compileScanScope(config);
    const skipped: string[] = [];
    const thread = new WalkThread(scope, { mounts: readMountTable(config.skip) });
    const kept: unknown[] = [];
    const skipFiles = (entry: PackedEntry): boolean => {
      const key = entry.bytes.subarray(entry.keyStart, entry.keyEnd);
      // Regular files named f<N> only: directories, symlinks and the rest come through.
      if (entry.numbers[entry.at + 7] !== constants.S_IFREG || !/\0f\d+$/.test(key.toString('latin1'))) return false;
      skipped.push(key.toString('hex'));
      return true;
    };
    for (const item of thread.items(skipFiles)) {
      if (item.kind === 'wait') await item.until;
      else kept.push(describeItem(item));
    }
    const all = walkHere(config) as { key: string }[];
    assert.equal(skipped.length, 60 * 40);
    assert.deepEqual(
      kept,
      all.filter((item) => !skipped.includes(item.key)),
    );
  });

  it('stops its thread when the consumer stops early', async () => {
    const walk = threadedWalk(compileScanScope(syscheckFor([root])), { mounts: readMountTable(syscheckFor([root]).skip) });
    let entries = 0;
    for (const item of walk) {
      if (item.kind === 'wait') await item.until;
      else if (++entries === 10) break;
    }
    // The generator's finally terminated the worker: the process would otherwise stay alive and this file time out.
    assert.equal(entries, 10);
  });
});
