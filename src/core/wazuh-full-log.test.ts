import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { buildWazuhFullLog } from './wazuh-full-log.js';

const md5a = 'a'.repeat(32);
const md5b = 'b'.repeat(32);
const sha256a = 'c'.repeat(64);
const sha256b = 'd'.repeat(64);

describe("buildWazuhFullLog (Wazuh 4.x's alert text)", () => {
  it('writes a modification as Wazuh does: event, mode, changed attributes, then one line per change, mtime in epoch seconds', () => {
    const before = fileState({ size: 54, mode: 0o644, mtimeNs: 1_662_759_745_123_456_789n, hashes: { md5: md5a, sha256: sha256a } });
    const after = fileState({ size: 57, mode: 0o755, mtimeNs: 1_662_759_795_000_000_001n, hashes: { md5: md5b, sha256: sha256b } });
    const text = buildWazuhFullLog(
      { kind: 'modified', path: before.path, before, after, changedAttributes: ['size', 'permission', 'mtime', 'md5', 'sha256'] },
      'realtime',
    );
    assert.equal(
      text,
      [
        "File '/etc/hosts' modified",
        'Mode: realtime',
        'Changed attributes: size,permission,mtime,md5,sha256',
        "Size changed from '54' to '57'",
        "Permissions changed from 'rw-r--r--' to 'rwxr-xr-x'",
        "Old modification time was: '1662759745', now it is '1662759795'",
        `Old md5sum was: '${md5a}'`,
        `New md5sum is : '${md5b}'`,
        `Old sha256sum was: '${sha256a}'`,
        `New sha256sum is : '${sha256b}'`,
        '',
      ].join('\n'),
    );
  });
  it('writes additions and deletions as two lines, with how the change was seen', () => {
    const state = fileState();
    assert.equal(
      buildWazuhFullLog({ kind: 'added', path: state.path, after: state, changedAttributes: [] }, 'scheduled'),
      "File '/etc/hosts' added\nMode: scheduled\n",
    );
    assert.equal(
      buildWazuhFullLog({ kind: 'deleted', path: state.path, before: state, changedAttributes: [] }, 'realtime'),
      "File '/etc/hosts' deleted\nMode: realtime\n",
    );
  });
  it('words owners, names and inode flags as Wazuh, and what Wazuh does not check after them', () => {
    const before = fileState({ uid: 0, uname: 'root', gid: 0, gname: 'root', inode: 10, inodeAttributes: { flags: '-' } });
    const after = fileState({
      uid: 1000,
      uname: 'eve',
      gid: 50,
      gname: 'staff',
      inode: 11,
      type: 'symlink',
      inodeAttributes: { flags: 'i', capabilities: 'cap_setuid=ep' },
    });
    const changed = ['type', 'uid', 'user_name', 'gid', 'group_name', 'inode', 'attributes', 'capabilities'] as const;
    const lines = buildWazuhFullLog({ kind: 'modified', path: before.path, before, after, changedAttributes: [...changed] }, 'scheduled').split('\n');
    assert.deepEqual(lines.slice(3), [
      "Ownership was '0', now it is '1000'",
      "User name was 'root', now it is 'eve'",
      "Group ownership was '0', now it is '50'",
      "Group name was 'root', now it is 'staff'",
      "Old inode was: '10', now it is '11'",
      "Old attributes were: '-'",
      "Now they are 'i'",
      "Type changed from 'file' to 'symlink'",
      "Capabilities changed from '' to 'cap_setuid=ep'",
      '',
    ]);
  });
});
