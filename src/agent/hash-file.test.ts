import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, lstatSync, openSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { mkfifoSync } from '../../test/support/mkfifo.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { CHECK_ALL, inodeAttributeRequest } from '../core/check-set.js';
import { hashFile, type ExpectedStat } from './hash-file.js';
import { readInodeAttributes } from './read-inode-attributes.js';

const ALL = ['md5', 'sha1', 'sha256'] as const;
const options = { algorithms: ALL, maxBytes: 1 << 30, buffer: Buffer.alloc(64 * 1024) };

function coreutilsDigest(tool: string, path: string): string {
  return execFileSync(tool, [path], { encoding: 'utf8' }).split(' ')[0] ?? '';
}

describe('hashFile', () => {
  const dir = tempDir();
  const sizes = { empty: 0, small: 100, exactBuffer: 64 * 1024, bufferPlusOne: 64 * 1024 + 1, large: 3 * 1024 * 1024 + 7 };
  for (const [name, size] of Object.entries(sizes)) {
    it(`matches md5sum, sha1sum and sha256sum for a ${name} file (${size} bytes)`, () => {
      const path = join(dir, name);
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 7919) & 0xff;
      writeFileSync(path, data);
      const r = hashFile(Buffer.from(path), options);
      assert.ok(r.ok && r.issue === undefined);
      assert.equal(r.hashes.md5, coreutilsDigest('md5sum', path));
      assert.equal(r.hashes.sha1, coreutilsDigest('sha1sum', path));
      assert.equal(r.hashes.sha256, coreutilsDigest('sha256sum', path));
      assert.equal(r.stat.size, size);
    });
  }
  it('computes only the requested digests', () => {
    const path = join(dir, 'small');
    const r = hashFile(Buffer.from(path), { ...options, algorithms: ['sha256'] });
    assert.ok(r.ok);
    assert.deepEqual(Object.keys(r.hashes), ['sha256']);
  });
  it('does not read a file over the size limit, and says so', () => {
    const path = join(dir, 'large');
    const r = hashFile(Buffer.from(path), { ...options, maxBytes: 1024 });
    assert.ok(r.ok);
    assert.deepEqual(r.hashes, {});
    assert.equal(r.issue?.code, 'too-large');
  });
  it('reports a vanished file', () => {
    const r = hashFile(Buffer.from(join(dir, 'never-there')), options);
    assert.ok(!r.ok);
    assert.equal(r.issue.code, 'vanished');
  });
  it('refuses to follow a symlink put where a file was', () => {
    const link = join(dir, 'link');
    symlinkSync(join(dir, 'small'), link);
    const r = hashFile(Buffer.from(link), options);
    assert.ok(!r.ok);
    assert.equal(r.issue.code, 'changed-while-hashed');
  });
  it('opens a FIFO put where a file was without blocking, and reads nothing', { timeout: 5000 }, () => {
    const fifo = join(dir, 'fifo');
    mkfifoSync(fifo);
    const r = hashFile(Buffer.from(fifo), options);
    assert.ok(!r.ok);
    assert.equal(r.issue.code, 'changed-while-hashed');
  });
  it('reports a file that is not the size fstat announced (a /proc file) as changed while hashed', () => {
    const r = hashFile(Buffer.from('/proc/self/status'), { ...options, retries: 1 });
    assert.ok(!r.ok);
    assert.equal(r.issue.code, 'changed-while-hashed');
  });
  describe('with the stat the walk saw', () => {
    const expectedOf = (path: string) => {
      const st = lstatSync(path, { bigint: true });
      return { size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, inode: Number(st.ino), dev: Number(st.dev) };
    };
    it('gives the same digests and stat as without it when the file is unchanged', () => {
      const path = join(dir, 'large');
      const quick = hashFile(Buffer.from(path), { ...options, expected: expectedOf(path) });
      assert.deepEqual(quick, hashFile(Buffer.from(path), options));
      assert.ok(quick.ok && quick.hashes.sha256 === coreutilsDigest('sha256sum', path));
    });
    it('hashes what is there now when the file changed after the walk (same size, new content)', () => {
      const path = join(dir, 'changes-after-walk');
      writeFileSync(path, 'before');
      const expected = expectedOf(path);
      writeFileSync(path, 'after!');
      utimesSync(path, 1, 1);
      const r = hashFile(Buffer.from(path), { ...options, expected });
      assert.ok(r.ok && r.issue === undefined);
      assert.equal(r.hashes.sha256, coreutilsDigest('sha256sum', path));
      assert.equal(r.stat.mtimeNs, 1_000_000_000n, 'the stat is the one of the bytes read, not the walk’s');
    });
    it('hashes the new file when the path was replaced after the walk by a file of the same size and times', () => {
      const path = join(dir, 'replaced-after-walk');
      writeFileSync(path, 'one');
      const expected = expectedOf(path);
      writeFileSync(`${path}.new`, 'two');
      renameSync(`${path}.new`, path);
      const r = hashFile(Buffer.from(path), { ...options, expected });
      assert.ok(r.ok);
      assert.equal(r.hashes.md5, coreutilsDigest('md5sum', path));
      assert.notEqual(r.stat.inode, expected.inode);
    });
    it('reports a FIFO put where the walk saw a file, without blocking', { timeout: 5000 }, () => {
      const path = join(dir, 'fifo-after-walk');
      writeFileSync(path, 'file');
      const expected = expectedOf(path);
      rmSync(path);
      mkfifoSync(path);
      const r = hashFile(Buffer.from(path), { ...options, expected });
      assert.ok(!r.ok);
      assert.equal(r.issue.code, 'changed-while-hashed');
    });
  });
});

describe('hashFile on a file truncated while it is read', () => {
  const dir = tempDir();
  const size = 16 * 1024 * 1024; // sparse: many buffers to read, no disk
  const makeFile = (name: string): string => {
    const path = join(dir, name);
    const fd = openSync(path, 'w');
    ftruncateSync(fd, size);
    closeSync(fd);
    return path;
  };
  /**
   * Cuts the file to `to` bytes once its first read has got `after` bytes in: the read-progress signal of the code
   * under test says when, so the cut lands in the middle of a read however loaded the machine is (a sleep did not).
   */
  const cutDuringFirstRead = (path: string, to: number, after = 1024 * 1024): ((bytesSoFar: number) => void) => {
    let cut = false;
    return (bytesSoFar) => {
      if (cut || bytesSoFar < after) return;
      cut = true;
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, to);
      closeSync(fd);
    };
  };
  it('never returns digests of a mix: without retries it reports changed-while-hashed', () => {
    const path = makeFile('shrinking-no-retry');
    const r = hashFile(Buffer.from(path), { ...options, retries: 0, onRead: cutDuringFirstRead(path, size / 2) });
    assert.ok(!r.ok, 'the read must not succeed on a file cut in the middle');
    assert.equal(r.issue.code, 'changed-while-hashed');
  });
  /** Hashes `path` with retries, cutting it to 1,000 bytes while it is being read; the result must be of the final content. */
  const cutWhileHashed = (path: string, expected?: ExpectedStat): void => {
    const r = hashFile(Buffer.from(path), { ...options, retries: 2, onRead: cutDuringFirstRead(path, 1000), ...(expected === undefined ? {} : { expected }) });
    assert.ok(r.ok, r.ok ? '' : r.issue.message);
    assert.equal(r.stat.size, 1000);
    assert.equal(r.hashes.sha256, coreutilsDigest('sha256sum', path));
  };
  it('with retries, re-reads and returns the digests of the final content', () => {
    cutWhileHashed(makeFile('shrinking-retry'));
  });
  it('with the walk’s stat, a file cut during the read is read again: digests of the final content, never of a mix', () => {
    const path = makeFile('shrinking-expected');
    const st = lstatSync(path, { bigint: true });
    cutWhileHashed(path, { size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, inode: Number(st.ino), dev: Number(st.dev) });
  });
});

describe('hashFile reading inode attributes with the content', () => {
  const dir = tempDir();
  const request = inodeAttributeRequest(CHECK_ALL);
  const expectedOf = (path: string): ExpectedStat => {
    const st = lstatSync(path, { bigint: true });
    return { size: Number(st.size), mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, inode: Number(st.ino), dev: Number(st.dev) };
  };
  const byPath = (path: string): unknown => readInodeAttributes(Buffer.from(path), 'file', lstatSync(path, { bigint: true }).ctimeNs, request);

  it('gives what reading them by path gives: extended attributes, ACL, capabilities and flags', () => {
    const path = join(dir, 'dressed');
    writeFileSync(path, 'content');
    execFileSync('setfattr', ['-n', 'user.custos', '-v', 'planted', path]);
    execFileSync('setfacl', ['-m', 'u:65534:r', path]);
    execFileSync('setcap', ['cap_net_raw=ep', path]);
    execFileSync('chattr', ['+d', path]);
    for (const expected of [undefined, expectedOf(path)]) {
      const r = hashFile(Buffer.from(path), { ...options, attributes: request, ...(expected === undefined ? {} : { expected }) });
      assert.ok(r.ok);
      assert.deepEqual(r.attributes, byPath(path));
      const attributes = r.attributes?.attributes;
      assert.match(attributes?.xattrs ?? '', /^user\.custos=/);
      assert.match(attributes?.acl ?? '', /user:65534:r--/);
      assert.equal(attributes?.capabilities, 'cap_net_raw=ep');
      assert.equal(attributes?.flags, 'd');
    }
    const plain = join(dir, 'plain');
    writeFileSync(plain, 'content');
    const r = hashFile(Buffer.from(plain), { ...options, attributes: request, expected: expectedOf(plain) });
    assert.ok(r.ok);
    assert.deepEqual(r.attributes, byPath(plain));
    const unasked = hashFile(Buffer.from(plain), options);
    assert.ok(unasked.ok && unasked.attributes === undefined, 'not read unless asked');
  });

  it('shares one result among files without extended attributes and the same flags, and only among those', () => {
    const files = ['same-1', 'same-2', 'nodump'].map((name) => {
      const path = join(dir, name);
      writeFileSync(path, name);
      return path;
    });
    execFileSync('chattr', ['+d', files[2] as string]);
    const [a, b, c] = files.map((path) => hashFile(Buffer.from(path), { ...options, attributes: request, expected: expectedOf(path) }));
    assert.ok(a?.ok && b?.ok && c?.ok);
    assert.equal(a.attributes, b.attributes, 'the same object');
    assert.ok(Object.isFrozen(a.attributes) && Object.isFrozen(a.attributes?.attributes), 'frozen, so that no holder can change it for the others');
    assert.notEqual(c.attributes, a.attributes);
    assert.equal(c.attributes?.attributes?.flags, 'd');
    files.forEach((path, i) => assert.deepEqual([a, b, c][i]?.attributes, byPath(path)));
  });

  it('never pairs a state with attributes from before a change made while the file was read', () => {
    const path = join(dir, 'changing');
    writeFileSync(path, Buffer.alloc(4 * 1024 * 1024));
    for (const expected of [undefined, expectedOf(path)]) {
      let planted = false;
      const r = hashFile(Buffer.from(path), {
        ...options,
        attributes: request,
        retries: 2,
        ...(expected === undefined ? {} : { expected }),
        onRead: () => {
          if (planted) return;
          planted = true;
          execFileSync('setfattr', ['-n', 'user.late', '-v', expected === undefined ? 'a' : 'b', path]);
        },
      });
      assert.ok(r.ok, r.ok ? '' : r.issue.message);
      assert.equal(r.stat.ctimeNs, lstatSync(path, { bigint: true }).ctimeNs);
      assert.match(r.attributes?.attributes?.xattrs ?? '', /user\.late=/, 'the attributes of the state reported, read again after the change');
    }
  });
});
