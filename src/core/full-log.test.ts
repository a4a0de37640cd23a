import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { buildFullLog } from './full-log.js';

const md5a = 'a'.repeat(32);
const md5b = 'b'.repeat(32);
const sha1a = 'c'.repeat(40);
const sha1b = 'd'.repeat(40);

describe('buildFullLog (OSSEC alert text)', () => {
  it('writes the integrity-changed text line for line, in OSSEC order', () => {
    const before = fileState({ size: 158, mode: 0o644, uid: 0, gid: 0, hashes: { md5: md5a, sha1: sha1a } });
    const after = fileState({ size: 181, mode: 0o4755, uid: 1000, gid: 50, hashes: { md5: md5b, sha1: sha1b } });
    const text = buildFullLog({ kind: 'modified', path: before.path, before, after, changedAttributes: ['size', 'permission', 'uid', 'gid', 'md5', 'sha1'] });
    assert.equal(
      text,
      [
        "Integrity checksum changed for: '/etc/hosts'",
        "Size changed from '158' to '181'",
        "Permissions changed from 'rw-r--r--' to 'rwsr-xr-x'",
        "Ownership was '0', now it is '1000'",
        "Group ownership was '0', now it is '50'",
        `Old md5sum was: '${md5a}'`,
        `New md5sum is : '${md5b}'`,
        `Old sha1sum was: '${sha1a}'`,
        `New sha1sum is : '${sha1b}'`,
      ].join('\n'),
    );
  });
  it('writes the deleted text', () => {
    const before = fileState();
    assert.equal(
      buildFullLog({ kind: 'deleted', path: before.path, before, changedAttributes: [] }),
      "File '/etc/hosts' was deleted. Unable to retrieve checksum.",
    );
  });
  it('writes the new-file text with sha1 before md5, as OSSEC does', () => {
    const after = fileState({ hashes: { md5: md5a, sha1: sha1a } });
    assert.equal(
      buildFullLog({ kind: 'added', path: after.path, after, changedAttributes: [] }),
      `New file '/etc/hosts' added to the file system.\nNew sha1sum is : '${sha1a}'\nNew md5sum is : '${md5a}'`,
    );
  });
  it('escapes a hostile path so the text keeps one line per fact', () => {
    const path = Buffer.concat([Buffer.from('/tmp/x\n'), Buffer.from([0xff])]);
    const before = fileState({ path });
    const text = buildFullLog({ kind: 'deleted', path, before, changedAttributes: [] });
    assert.equal(text, "File '/tmp/x\\n\\xff' was deleted. Unable to retrieve checksum.");
  });
  it('shows the new digests and link target when another kind of entry took the path', () => {
    const fifo = fileState({ type: 'fifo', size: 0, hashes: {} });
    const file = fileState({ type: 'file', size: 11, hashes: { md5: md5a, sha1: sha1a } });
    assert.equal(
      buildFullLog({ kind: 'modified', path: fifo.path, before: fifo, after: file, changedAttributes: ['type', 'size'] }),
      [
        "Integrity checksum changed for: '/etc/hosts'",
        "Size changed from '0' to '11'",
        "Type changed from 'fifo' to 'file'",
        `New sha1sum is : '${sha1a}'`,
        `New md5sum is : '${md5a}'`,
      ].join('\n'),
    );
    const link = fileState({ type: 'symlink', size: 11, hashes: {}, linkTarget: Buffer.from('/etc/shadow') });
    assert.equal(
      buildFullLog({ kind: 'modified', path: file.path, before: file, after: link, changedAttributes: ['type'] }),
      ["Integrity checksum changed for: '/etc/hosts'", "Type changed from 'file' to 'symlink'", "Symbolic link target changed from '' to '/etc/shadow'"].join(
        '\n',
      ),
    );
  });
});
