import assert from 'node:assert/strict';
import { constants, lstatSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mkfifoSync } from '../../test/support/mkfifo.js';
import { bytesPath, tempDir } from '../../test/support/temp-dir.js';
import { snapshot } from './hash-file.js';
import { listDirectory } from './list-directory.js';

describe('listDirectory', () => {
  const root = tempDir();
  for (const name of ['a', 'a-x', 'a.txt', 'ab', 'B', 'line\nbreak']) writeFileSync(join(root, name), name);
  writeFileSync(bytesPath(root, '/', Buffer.from([0xff, 0xfe])), 'not utf-8');
  mkdirSync(join(root, 'dir'));
  symlinkSync('/nowhere', join(root, 'dangling'));
  mkfifoSync(join(root, 'fifo'));

  it('lists names sorted by bytes, each with the lstat data fs.lstatSync gives', () => {
    const listing = listDirectory(Buffer.from(root));
    const expected = readdirSync(root, { encoding: 'buffer' }).sort((a, b) => Buffer.compare(a, b));
    assert.deepEqual(listing.names, expected);
    listing.names.forEach((name, i) => {
      const stat = listing.stat(i);
      assert.notEqual(stat, undefined, `${name.toString()} has its lstat data`);
      assert.deepEqual(stat, snapshot(lstatSync(bytesPath(root, '/', name), { bigint: true })));
    });
    const dangling = listing.names.findIndex((n) => n.toString() === 'dangling');
    assert.equal(listing.stat(dangling)?.format, constants.S_IFLNK, 'a symlink is not followed');
  });

  it('lists an empty directory and a large one (names past the first block of the name buffer)', () => {
    const empty = join(root, 'dir');
    assert.deepEqual(listDirectory(Buffer.from(empty)).names, []);
    const large = join(root, 'large');
    mkdirSync(large);
    const names = Array.from({ length: 700 }, (_, i) => `entry-with-a-long-name-${String(i).padStart(4, '0')}`);
    for (const name of names) writeFileSync(join(large, name), name);
    const listing = listDirectory(Buffer.from(large));
    assert.deepEqual(
      listing.names.map((n) => n.toString()),
      [...names].sort(),
    );
    assert.ok(Buffer.isBuffer(listing.names[0]), 'names are Buffers');
    assert.equal(listing.stat(699)?.size, names[699]?.length);
  });

  it('throws what readdirSync throws for what cannot be listed', () => {
    assert.throws(() => listDirectory(Buffer.from(join(root, 'a'))), { code: 'ENOTDIR' });
    assert.throws(() => listDirectory(Buffer.from(join(root, 'missing'))), { code: 'ENOENT' });
  });
});
