import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { tempDir } from '../../test/support/temp-dir.js';
import type { CapturedContent } from '../core/diff/content-capture.js';
import type { FileChange } from '../core/file-change.js';
import { SqliteContentStore } from '../storage/sqlite/sqlite-content-store.js';
import { recordContent } from './record-content.js';

const path = Buffer.from('/etc/app.conf');
const sha = (b: Buffer): string => hash('sha256', b, 'hex');
const bytes = (text: string | Buffer): CapturedContent => {
  const b = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return { kind: 'bytes', bytes: b, sha256: sha(b) };
};
const modified = (size = 10): FileChange => ({
  kind: 'modified',
  path,
  before: fileState({ path, size: 1, hashes: { sha256: 'a'.repeat(64) } }),
  after: fileState({ path, size, hashes: { sha256: 'b'.repeat(64) } }),
  changedAttributes: ['size', 'sha256'],
});
const added: FileChange = { kind: 'added', path, after: fileState({ path }), changedAttributes: [] };
const deleted: FileChange = { kind: 'deleted', path, before: fileState({ path }), changedAttributes: [] };

describe('recordContent: the copy kept and the diff said', () => {
  const store = SqliteContentStore.open(join(tempDir(), 'content.db'), 0);
  after(() => store.close());
  const opts = { store, agentId: '000', sizeLimitBytes: 64, redact: [] };

  it('records a new file without a diff, then diffs its next version', () => {
    assert.equal(recordContent(added, bytes('a\n'), opts), undefined);
    assert.equal(recordContent(modified(), bytes('a\nb\n'), opts), '@@ -1 +1,2 @@\n a\n+b');
  });

  it('says when the new version is binary, and then that the earlier one had no copy', () => {
    assert.match(
      String(recordContent(modified(), bytes(Buffer.from([0, 1, 2])), opts)),
      /^diff not available: binary content \(size 1 -> 10 bytes, sha256 a{64} -> b{64}\)$/,
    );
    assert.match(String(recordContent(modified(), bytes('text again\n'), opts)), /^diff not available: no copy of the earlier version \(binary content\)/);
    assert.equal(recordContent(modified(), bytes('text again\nmore\n'), opts), '@@ -1 +1,2 @@\n text again\n+more');
  });

  it("names the limit the reader applied, not this side's, when the content came without bytes", () => {
    assert.match(
      String(recordContent(modified(5000), { kind: 'none', reason: 'too-large', limitBytes: 4096 }, opts)),
      /^diff not available: file over the 4096-byte diff size limit \(size 1 -> 5000 bytes/,
    );
  });

  it('says when a version is over the limit', () => {
    assert.match(
      String(recordContent(modified(100), bytes('x'.repeat(100)), opts)),
      /^diff not available: file over the 64-byte diff size limit \(size 1 -> 100 bytes/,
    );
  });

  it('forgets a deleted file: it starts over when it comes back', () => {
    recordContent(deleted, { kind: 'none', reason: 'unreadable' }, opts);
    assert.equal(store.get('000', path), undefined);
    assert.match(String(recordContent(modified(), bytes('back\n'), opts)), /^diff not available: first version recorded/);
  });
});
