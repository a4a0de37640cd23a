import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mkfifoSync } from '../../test/support/mkfifo.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { readContent } from './read-content.js';

const sha256sum = (path: string): string => execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0] ?? '';

describe('readContent', () => {
  const dir = tempDir();
  const file = join(dir, 'conf');
  writeFileSync(file, 'hello\nworld\n');

  it('reads a regular file whose digest is the one the scan saw (sha256sum)', () => {
    const r = readContent(Buffer.from(file), 1024, sha256sum(file));
    assert.equal(r.kind, 'bytes');
    assert.equal(r.kind === 'bytes' && r.bytes.toString(), 'hello\nworld\n');
  });

  it('refuses bytes that are not the version the scan hashed', () => {
    assert.deepEqual(readContent(Buffer.from(file), 1024, 'ab'.repeat(32)), { kind: 'none', reason: 'changed-while-read' });
  });

  it('does not read a file over the limit', () => {
    assert.deepEqual(readContent(Buffer.from(file), 4, undefined), { kind: 'none', reason: 'too-large', detail: '12 bytes', limitBytes: 4 });
  });

  it('never follows a symlink to its target', () => {
    const target = join(dir, 'secret');
    writeFileSync(target, 'TOP SECRET\n');
    const link = join(dir, 'link');
    symlinkSync(target, link);
    const r = readContent(Buffer.from(link), 1024, undefined);
    assert.deepEqual(r, { kind: 'none', reason: 'not-regular', detail: 'replaced by a symbolic link' });
  });

  it('does not block on a FIFO', () => {
    const fifo = join(dir, 'fifo');
    mkfifoSync(fifo);
    assert.deepEqual(readContent(Buffer.from(fifo), 1024, undefined), { kind: 'none', reason: 'not-regular' });
  });

  it('says a vanished file could not be read', () => {
    assert.deepEqual(readContent(Buffer.from(join(dir, 'gone')), 1024, undefined), { kind: 'none', reason: 'unreadable', detail: 'ENOENT' });
  });
});
