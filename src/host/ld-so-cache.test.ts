import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { parseLdSoCache } from './ld-so-cache.js';

describe('parseLdSoCache', () => {
  it("reads this machine's /etc/ld.so.cache exactly as ldconfig -p lists it", () => {
    const entries = parseLdSoCache(readFileSync('/etc/ld.so.cache'));
    // `ldconfig -p`: a count line, then "\tSONAME (flags) => PATH" per entry, in cache order.
    const listed = execFileSync('ldconfig', ['-p'], { encoding: 'latin1' })
      .split('\n')
      .slice(1)
      .filter((l) => l.includes(' => '))
      .map((l) => [l.trim().split(' ')[0], l.slice(l.indexOf(' => ') + 4)]);
    assert.ok(listed.length > 10);
    assert.deepEqual(
      entries.map((e) => [e.soname.toString('latin1'), e.path.toString('latin1')]),
      listed,
    );
  });

  it('reads a cache ldconfig builds for a directory of its own', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'lib'));
    const libc = execFileSync('sh', ['-c', "ldconfig -p | awk '/libc.so.6 .*x86-64/ {print $NF; exit}'"], { encoding: 'utf8' }).trim();
    copyFileSync(libc, join(dir, 'lib', 'libc.so.6'));
    writeFileSync(join(dir, 'ld.so.conf'), '');
    execFileSync('ldconfig', ['-C', join(dir, 'ld.so.cache'), '-f', join(dir, 'ld.so.conf'), '-n', join(dir, 'lib')]);
    execFileSync('ldconfig', ['-C', join(dir, 'ld.so.cache'), '-f', join(dir, 'ld.so.conf'), '-X', join(dir, 'lib')]);
    const entries = parseLdSoCache(readFileSync(join(dir, 'ld.so.cache')));
    assert.ok(
      entries.some((e) => e.soname.toString() === 'libc.so.6' && e.path.toString() === join(dir, 'lib', 'libc.so.6')),
      JSON.stringify(entries.map((e) => e.path.toString())),
    );
  });

  it('refuses what is not a cache, or lies about its size, instead of reading past the end', () => {
    const real = readFileSync('/etc/ld.so.cache');
    assert.throws(() => parseLdSoCache(Buffer.from('ld.so-1.7.0 old format')), /not a glibc-ld.so.cache1.1/);
    assert.throws(() => parseLdSoCache(real.subarray(0, 40)), /not a glibc/);
    const count = Buffer.from(real);
    count.writeUInt32LE(0xffffffff, 20);
    assert.throws(() => parseLdSoCache(count), /more than the file holds/);
    const offset = Buffer.from(real);
    offset.writeUInt32LE(real.length + 10, 48 + 8);
    assert.throws(() => parseLdSoCache(offset), /past the end/);
    const unterminated = Buffer.from(real.subarray(0, real.length));
    unterminated.fill(0x41, real.readUInt32LE(48 + 8));
    assert.throws(() => parseLdSoCache(unterminated), /not terminated/);
  });
});
