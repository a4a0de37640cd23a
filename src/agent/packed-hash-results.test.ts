import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { HashAlgorithm } from '../core/file-state.js';
import { INODE_ATTRIBUTE_FIELDS, type InodeAttributeRequest } from '../core/inode-attributes.js';
import { mkfifoSync } from '../../test/support/mkfifo.js';
import { bytesPath, tempDir } from '../../test/support/temp-dir.js';
import { hashFile, type ExpectedStat, type HashFileResult } from './hash-file.js';
import { HashPool } from './hash-pool.js';
import { packHashResults, unpackHashResults } from './packed-hash-results.js';

const ALL = ['md5', 'sha1', 'sha256'] as const;
const EVERY_ATTRIBUTE = Object.fromEntries(INODE_ATTRIBUTE_FIELDS.map((f) => [f, true])) as InodeAttributeRequest;

function expectedOf(path: Buffer): ExpectedStat {
  const st = lstatSync(path, { bigint: true });
  return { size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, inode: Number(st.ino), dev: Number(st.dev) };
}

/** What a worker's reply becomes on the receiving side: packed, cloned as postMessage clones, unpacked. */
function roundTrip(results: readonly HashFileResult[], algorithms: readonly HashAlgorithm[]): HashFileResult[] {
  return unpackHashResults(structuredClone(packHashResults(results, algorithms)), algorithms);
}

/** A tree of every kind of result a batch can hold: plain files, files with attributes, problems. */
function mixedTree(dir: string): Buffer[] {
  const paths: Buffer[] = [];
  for (let i = 0; i < 40; i++) {
    const path = Buffer.from(join(dir, `f${i}`));
    writeFileSync(path, Buffer.alloc(i * 37, i));
    paths.push(path);
  }
  // Attributes that differ from the other files': an ACL entry and a user xattr (tmpfs and ext4 both keep these).
  const acl = Buffer.from(join(dir, 'with-acl'));
  writeFileSync(acl, 'acl');
  execFileSync('setfacl', ['-m', 'u:nobody:r', acl.toString()]);
  const xattr = Buffer.from(join(dir, 'with-xattr'));
  writeFileSync(xattr, 'xattr');
  execFileSync('setfattr', ['-n', 'user.custos', '-v', 'x', xattr.toString()]);
  const odd = bytesPath(dir, '/', Buffer.from([0x66, 0xff, 0x0a, 0x80]));
  writeFileSync(odd, 'a name that is not UTF-8');
  const fifo = join(dir, 'fifo');
  mkfifoSync(fifo);
  const link = join(dir, 'link');
  symlinkSync('f1', link);
  mkdirSync(join(dir, 'sub'));
  paths.push(
    acl,
    xattr,
    odd,
    Buffer.from(fifo),
    Buffer.from(link),
    Buffer.from(join(dir, 'sub')),
    Buffer.from(join(dir, 'gone')),
    Buffer.from(join(dir, 'f3')),
  );
  return paths;
}

describe('packed hash results (a hashing worker’s reply)', () => {
  const dir = tempDir();
  const paths = mixedTree(dir);

  for (const algorithms of [ALL, ['sha256'], ['md5', 'sha1'], []] as const) {
    it(`come back exactly as hashFile made them, ${algorithms.join('+') || 'no digest'}`, () => {
      const buffer = Buffer.alloc(4096);
      const results = paths.map((path) => hashFile(path, { algorithms, maxBytes: 1000, buffer, attributes: EVERY_ATTRIBUTE }));
      // Every kind is there: plain, with attributes, too large (over 1000 bytes), not a file, vanished.
      assert.ok(results.some((r) => r.ok && r.issue === undefined));
      assert.ok(results.some((r) => r.ok && r.issue?.code === 'too-large'));
      assert.ok(results.some((r) => !r.ok && r.issue.code === 'vanished'));
      assert.ok(results.some((r) => !r.ok && r.issue.code !== 'vanished'));
      const back = roundTrip(results, algorithms);
      assert.deepEqual(back, results);
      // The digests' order too: a state's digests keep it.
      const digestOrder = (rs: readonly HashFileResult[]): string[][] => rs.map((r) => Object.keys(r.hashes ?? {}));
      assert.deepEqual(digestOrder(back), digestOrder(results));
    });
  }

  it('share one attributes result among files that have equal ones, and keep those that differ apart', () => {
    const buffer = Buffer.alloc(4096);
    const results = paths.slice(0, 42).map((path) => hashFile(path, { algorithms: ALL, maxBytes: 1 << 20, buffer, attributes: EVERY_ATTRIBUTE }));
    const packed = packHashResults(results, ALL);
    assert.equal(packed.others.length, 0);
    assert.equal(packed.attributeTable.length, 3, 'the plain files’, the ACL’s, the xattr’s');
    assert.deepEqual(roundTrip(results, ALL), results);
  });

  it('carry what does not fit the packed form whole: times past 2262, malformed or extra digests', () => {
    const stat = { size: 1, mode: 0o100644, uid: 0, gid: 0, inode: 7, dev: 9, nlink: 1, format: 0o100000 };
    const far = 2n ** 63n + 5n;
    const results: HashFileResult[] = [
      { ok: true, hashes: { sha256: 'a'.repeat(64) }, stat: { ...stat, mtimeNs: far, ctimeNs: 1n } },
      { ok: true, hashes: { sha256: 'a'.repeat(64) }, stat: { ...stat, mtimeNs: 1n, ctimeNs: -far } },
      { ok: true, hashes: { sha256: '' }, stat: { ...stat, mtimeNs: 1n, ctimeNs: 1n } },
      { ok: true, hashes: { sha256: 'A'.repeat(64) }, stat: { ...stat, mtimeNs: 1n, ctimeNs: 1n } },
      { ok: true, hashes: { sha256: 'b'.repeat(64), md5: 'c'.repeat(32) }, stat: { ...stat, mtimeNs: 1n, ctimeNs: 1n } },
      { ok: true, hashes: {}, stat: { ...stat, mtimeNs: 1n, ctimeNs: 1n } },
      { ok: true, hashes: { sha256: 'd'.repeat(64) }, stat: { ...stat, mtimeNs: -1n, ctimeNs: 2n ** 63n - 1n } },
    ];
    const packed = packHashResults(results, ['sha256']);
    assert.deepEqual(
      packed.others.map((o) => o.at),
      [0, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(roundTrip(results, ['sha256']), results);
  });

  it('come back from the pool’s worker threads as hashed in this thread', async () => {
    const pool = new HashPool(2);
    after(() => pool.close());
    const files = paths.filter((p) => !p.toString('latin1').endsWith('/gone'));
    const expected = files.map(expectedOf);
    const here = files.map((path, i) =>
      hashFile(path, { algorithms: ALL, maxBytes: 1 << 20, buffer: Buffer.alloc(1 << 20), expected: expected[i] as ExpectedStat, attributes: EVERY_ATTRIBUTE }),
    );
    const there = await pool.hash(files, ALL, 1 << 20, 2, expected, EVERY_ATTRIBUTE);
    assert.deepEqual(there, here);
  });
});
