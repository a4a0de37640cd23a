import assert from 'node:assert/strict';
import { appendFileSync, constants, lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mkfifoSync } from '../../test/support/mkfifo.js';
import { bytesPath, tempDir } from '../../test/support/temp-dir.js';
import { fastReadAvailable, openAndRead, statAndClose } from './fd-read.js';
import { hashFile, snapshot, type ExpectedStat } from './hash-file.js';

const ALL = ['md5', 'sha1', 'sha256'] as const;
const BUFFER = 64 * 1024;
const options = { algorithms: ALL, maxBytes: 1 << 30, buffer: Buffer.alloc(BUFFER) };

const openDescriptors = (): number => readdirSync('/proc/self/fd').length;

function expectedOf(path: string | Buffer): ExpectedStat {
  const st = lstatSync(path, { bigint: true });
  return { size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, inode: Number(st.ino), dev: Number(st.dev) };
}

function fileOf(dir: string, name: string, size: number): string {
  const path = join(dir, name);
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 131 + size) & 0xff;
  writeFileSync(path, data);
  return path;
}

describe('the hashing worker’s open-and-read through the addon', () => {
  const dir = tempDir();

  it('is built here (the tests below would test nothing without it)', () => {
    assert.equal(fastReadAvailable(), true);
  });

  it('reads a file whole and gives the stat data fs.lstatSync gives, then closes it', () => {
    const path = fileOf(dir, 'plain', 5000);
    const before = openDescriptors();
    const buffer = Buffer.alloc(BUFFER);
    const opened = openAndRead(Buffer.from(path), buffer, 5001);
    assert.ok(opened !== undefined);
    assert.equal(opened.bytes, 5000);
    assert.ok(buffer.subarray(0, 5000).equals(readFileSync(path)));
    assert.equal(openDescriptors(), before + 1);
    assert.deepEqual(statAndClose(opened.fd), snapshot(lstatSync(path, { bigint: true })));
    assert.equal(openDescriptors(), before);
  });

  it('opens a file whose name is not UTF-8 by its exact bytes', () => {
    const path = bytesPath(dir, '/', Buffer.from([0x6e, 0xff, 0xfe, 0x0a]));
    writeFileSync(path, 'latin-1 name');
    const opened = openAndRead(path, Buffer.alloc(BUFFER), 13);
    assert.equal(opened?.bytes, 12);
    if (opened !== undefined) assert.deepEqual(statAndClose(opened.fd), snapshot(lstatSync(path, { bigint: true })));
    const fast = hashFile(path, { ...options, expected: expectedOf(path) });
    assert.deepEqual(fast, hashFile(path, options));
  });

  it('stops at what it was asked for: a file that grew is noticed by one byte more', () => {
    const path = fileOf(dir, 'grown', 300);
    const opened = openAndRead(Buffer.from(path), Buffer.alloc(BUFFER), 201);
    assert.equal(opened?.bytes, 201);
    if (opened !== undefined) statAndClose(opened.fd);
  });

  it('opens no symlink and nothing missing; a FIFO opens without blocking, reads nothing and says what it is', { timeout: 5000 }, () => {
    symlinkSync(fileOf(dir, 'target', 10), join(dir, 'link'));
    mkfifoSync(join(dir, 'fifo'));
    const before = openDescriptors();
    for (const name of ['link', 'missing']) assert.equal(openAndRead(Buffer.from(join(dir, name)), Buffer.alloc(BUFFER), 11), undefined, name);
    const fifo = openAndRead(Buffer.from(join(dir, 'fifo')), Buffer.alloc(BUFFER), 11);
    assert.equal(fifo?.bytes, 0);
    if (fifo !== undefined) assert.equal(statAndClose(fifo.fd)?.format, constants.S_IFIFO);
    assert.equal(openDescriptors(), before, 'nothing left open');
  });

  it('refuses arguments the worker never passes, with a type error', () => {
    assert.throws(() => openAndRead(Buffer.from(join(dir, 'plain')), Buffer.alloc(10), 11), TypeError);
    assert.throws(() => openAndRead(Buffer.from(`${join(dir, 'plain')}\0x`), Buffer.alloc(BUFFER), 11), TypeError);
  });

  it('gives hashFile the same result as the careful path for every size that fits the buffer', () => {
    for (const size of [0, 1, 100, BUFFER - 2, BUFFER - 1]) {
      const path = fileOf(dir, `size-${size}`, size);
      const fast = hashFile(Buffer.from(path), { ...options, expected: expectedOf(path) });
      const careful = hashFile(Buffer.from(path), options);
      assert.ok(fast.ok && careful.ok, `size ${size}`);
      assert.deepEqual(fast, careful, `size ${size}`);
    }
  });

  it('falls back to the careful path when the file grew after the walk: the result is what is there now', () => {
    const path = fileOf(dir, 'grows-after-walk', 100);
    const expected = expectedOf(path);
    appendFileSync(path, 'more');
    const grown = hashFile(Buffer.from(path), { ...options, expected });
    assert.deepEqual(grown, hashFile(Buffer.from(path), options));
    assert.ok(grown.ok && grown.stat.size === 104);
  });
});
