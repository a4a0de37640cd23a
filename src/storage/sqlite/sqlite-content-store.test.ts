import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../../test/support/temp-dir.js';
import { SqliteContentStore } from './sqlite-content-store.js';

const p = (s: string): Buffer => Buffer.from(s);

describe('SqliteContentStore', () => {
  it('keeps the last version, compressed, in an owner-only file', () => {
    const path = join(tempDir(), 'content.db');
    const store = SqliteContentStore.open(path, 0);
    const text = 'line of a config file\n'.repeat(500);
    store.put('000', p('/etc/a'), 'aa', 'old\n');
    store.put('000', p('/etc/a'), 'bb', text);
    assert.deepEqual(store.get('000', p('/etc/a')), { kind: 'text', sha256: 'bb', text });
    assert.equal(store.get('001', p('/etc/a')), undefined);
    const usage = store.usage();
    assert.equal(usage.copies, 1);
    assert.equal(usage.textBytes, text.length);
    assert.ok(usage.storedBytes < text.length / 10, `compressed ${usage.storedBytes} of ${text.length}`);
    store.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('evicts the oldest copies past the quota and remembers why', () => {
    const store = SqliteContentStore.open(join(tempDir(), 'content.db'), 3000);
    // Random hex does not compress below half: three 2,000-byte texts cannot all fit 3,000 bytes.
    const texts = [0, 1, 2].map(() => randomBytes(1000).toString('hex'));
    texts.forEach((t, i) => store.put('000', p(`/etc/f${i}`), `s${i}`, t));
    assert.deepEqual(store.get('000', p('/etc/f0')), { kind: 'missing', reason: 'quota' });
    assert.deepEqual(store.get('000', p('/etc/f2')), { kind: 'text', sha256: 's2', text: texts[2] });
    assert.ok(store.usage().storedBytes <= 3000);
    // One copy larger than the whole quota is never stored.
    store.put('000', p('/etc/huge'), 'h', randomBytes(4000).toString('hex'));
    assert.deepEqual(store.get('000', p('/etc/huge')), { kind: 'missing', reason: 'quota' });
    store.close();
  });

  it('forgets a removed file and records a missing version', () => {
    const store = SqliteContentStore.open(join(tempDir(), 'content.db'), 0);
    store.put('000', p('/etc/a'), 'aa', 'x\n');
    store.markMissing('000', p('/etc/a'), 'binary');
    assert.deepEqual(store.get('000', p('/etc/a')), { kind: 'missing', reason: 'binary' });
    assert.equal(store.usage().copies, 0);
    store.remove('000', p('/etc/a'));
    assert.equal(store.get('000', p('/etc/a')), undefined);
    store.close();
  });

  it('refuses a symlink planted where the database goes', () => {
    const dir = tempDir();
    const target = join(dir, 'victim');
    writeFileSync(target, 'keep me');
    symlinkSync(target, join(dir, 'content.db'));
    assert.throws(() => SqliteContentStore.open(join(dir, 'content.db'), 0), { code: 'STORE_FAILED' });
    assert.equal(readFileSync(target, 'utf8'), 'keep me');
  });
});
