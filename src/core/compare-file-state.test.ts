import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { buildCheckSet, CHECK_ALL } from './check-set.js';
import { compareFileState, type Attribute } from './compare-file-state.js';
import type { FileState } from './file-state.js';

describe('compareFileState: each attribute alone', () => {
  const base = fileState();
  const cases: [Attribute[], Partial<FileState>][] = [
    [['size'], { size: 999 }],
    [['permission'], { mode: 0o4755 }],
    [['uid'], { uid: 1000 }],
    [['user_name'], { uname: 'mallory' }],
    [['gid'], { gid: 1000 }],
    [['group_name'], { gname: 'staff' }],
    [['mtime'], { mtimeNs: base.mtimeNs + 1n }],
    [['inode'], { inode: 4321 }],
    [['md5'], { hashes: { ...base.hashes, md5: '0'.repeat(32) } }],
    [['sha1'], { hashes: { ...base.hashes, sha1: '0'.repeat(40) } }],
    [['sha256'], { hashes: { ...base.hashes, sha256: '0'.repeat(64) } }],
    [['type'], { type: 'fifo' }],
  ];
  for (const [expected, change] of cases) {
    it(`reports ${expected.join(',')} and nothing else`, () => {
      assert.deepEqual(compareFileState(base, fileState(change), CHECK_ALL), expected);
    });
  }
  it('reports a changed symlink target', () => {
    const link = fileState({ type: 'symlink', linkTarget: Buffer.from('/a'), hashes: {} });
    assert.deepEqual(compareFileState(link, { ...link, linkTarget: Buffer.from('/b') }, CHECK_ALL), ['link_target']);
  });
  it('ignores ctime, dev and issues (they refresh the cache, they are not changes)', () => {
    const after = fileState({ ctimeNs: 1n, dev: 7, issues: [{ code: 'too-large', message: '' }] });
    assert.deepEqual(compareFileState(base, after, CHECK_ALL), []);
  });
  it("reports a file's new hard link, not a directory's new subdirectory", () => {
    assert.deepEqual(compareFileState(base, { ...base, nlink: 2 }, CHECK_ALL), ['link_count']);
    assert.deepEqual(compareFileState(base, { ...base, nlink: 2 }, buildCheckSet({ check_all: true, check_link_count: false })), []);
    const dir = fileState({ type: 'directory', nlink: 2, hashes: {} });
    assert.deepEqual(compareFileState(dir, { ...dir, nlink: 3 }, CHECK_ALL), []);
  });
  it('reports ctime alone for a file over max_file_size, whose content is never read', () => {
    const tooLarge = [{ code: 'too-large' as const, message: '' }];
    const big = fileState({ hashes: {}, issues: tooLarge });
    assert.deepEqual(compareFileState(big, { ...big, ctimeNs: big.ctimeNs + 1n }, CHECK_ALL), ['ctime']);
    assert.deepEqual(compareFileState(big, { ...big, ctimeNs: big.ctimeNs + 1n, size: 1 }, CHECK_ALL), ['size'], 'only when nothing else shows');
    assert.deepEqual(compareFileState(base, { ...base, ctimeNs: base.ctimeNs + 1n }, CHECK_ALL), [], 'a hashed file: its content answers');
  });
  it('compares each inode attribute only where both states have it', () => {
    const was = fileState({ inodeAttributes: { capabilities: '', acl: '', flags: '-' } });
    const now = fileState({ inodeAttributes: { capabilities: 'cap_setuid=ep', acl: 'user::rw-,user:65534:rw-,group::r--,mask::rw-,other::r--', flags: 'i' } });
    assert.deepEqual(compareFileState(was, now, CHECK_ALL), ['capabilities', 'acl', 'attributes']);
    assert.deepEqual(compareFileState(fileState(), now, CHECK_ALL), [], 'a baseline from before the attributes were read');
    assert.deepEqual(compareFileState(fileState({ inodeAttributes: { flags: '-' } }), now, CHECK_ALL), ['attributes']);
  });
});

describe('compareFileState: what the check set covers', () => {
  it('looks only at checked attributes', () => {
    const after = fileState({ size: 1, mode: 0o777, mtimeNs: 5n, hashes: { md5: '1'.repeat(32), sha1: '1'.repeat(40), sha256: '1'.repeat(64) } });
    assert.deepEqual(compareFileState(fileState(), after, buildCheckSet({ check_size: true })), ['size']);
    assert.deepEqual(compareFileState(fileState(), after, buildCheckSet({ check_sha256sum: true, check_perm: true })), ['permission', 'sha256']);
  });
  it('does not report content as changed when a digest is missing on one side', () => {
    const unreadable = fileState({ hashes: {} });
    assert.deepEqual(compareFileState(fileState(), unreadable, CHECK_ALL), []);
  });
  it('does not compare size or mtime of directories', () => {
    const dir = fileState({ type: 'directory', hashes: {} });
    assert.deepEqual(compareFileState(dir, { ...dir, size: 8192, mtimeNs: 1n }, CHECK_ALL), []);
    assert.deepEqual(compareFileState(dir, { ...dir, mode: 0o777 }, CHECK_ALL), ['permission']);
  });
});

describe('buildCheckSet', () => {
  it('defaults to everything when no option is given, as Wazuh does', () => {
    assert.deepEqual(buildCheckSet({}), CHECK_ALL);
  });
  it('applies check_all first, then narrower options', () => {
    const set = buildCheckSet({ check_all: true, check_md5sum: false, check_mtime: false });
    assert.equal(set.md5, false);
    assert.equal(set.mtime, false);
    assert.equal(set.sha256, true);
  });
  it('check_sum means the three digests only', () => {
    assert.deepEqual(buildCheckSet({ check_sum: true }), { ...buildCheckSet({ check_all: false }), md5: true, sha1: true, sha256: true });
  });
});
