import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { FileState } from '../../core/file-state.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { FingerprintCursor } from '../../core/fingerprint-cursor.js';
import { subtreeKeyRange } from '../../core/path-bytes.js';
import { SqliteFleetSearch } from './sqlite-fleet-search.js';
import { SqliteStore } from './sqlite-store.js';

const dir = tempDir();
let n = 0;

function file(version: number, hashes: FileState['hashes']): FileState {
  return {
    path: Buffer.from('/etc/app.conf'),
    type: 'file',
    size: 100 + version,
    mode: 0o644,
    uid: 0,
    gid: 0,
    uname: 'root',
    gname: 'root',
    mtimeNs: 1_700_000_000_000_000_000n + BigInt(version),
    ctimeNs: 1_700_000_000_000_000_000n + BigInt(version),
    inode: 42,
    dev: 2049,
    nlink: 1,
    hashes,
    issues: [],
  };
}

const A = { md5: 'a'.repeat(32), sha1: 'a'.repeat(40), sha256: 'a'.repeat(64) };
const B = { md5: 'a'.repeat(32), sha1: 'b'.repeat(40), sha256: 'b'.repeat(64) };

/** A store holding `first` for agent 001, and a fleet search over the same file. */
async function storeWith(first: FileState): Promise<{ store: SqliteStore; search: SqliteFleetSearch; db: Database.Database }> {
  const path = join(dir, `baseline-${n++}.db`);
  const store = SqliteStore.open(path);
  await store.upsertAgent({ id: '001', name: 'host1' });
  await store.commit({ agentId: '001', upserts: [first], deletes: [], events: [] });
  const db = new Database(path, { readonly: true });
  return { store, search: new SqliteFleetSearch(db), db };
}

async function hosts(search: SqliteFleetSearch, digest: 'md5' | 'sha1' | 'sha256', value: string): Promise<string[]> {
  return (await search.hostsWithDigest(digest, value, 10)).map((h) => h.agentId);
}

// The baseline write sets a row's digests only when they changed (an unchanged digest set again would rewrite its
// index entries): the row must still come back exactly as written, and every digest index must agree with it.
describe('SQLite baseline writes', () => {
  it('keeps the digests and their index entries when only metadata changed', async () => {
    const { store, search, db } = await storeWith(file(0, A));
    await store.commit({ agentId: '001', upserts: [file(1, A)], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', Buffer.from('/etc/app.conf')), file(1, A));
    assert.deepEqual(await hosts(search, 'sha256', A.sha256), ['001']);
    assert.deepEqual(await hosts(search, 'sha1', A.sha1), ['001']);
    assert.deepEqual(await hosts(search, 'md5', A.md5), ['001']);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    await store.close();
  });

  it('moves exactly the changed digests in their indexes', async () => {
    const { store, search, db } = await storeWith(file(0, A));
    await store.commit({ agentId: '001', upserts: [file(1, B)], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', Buffer.from('/etc/app.conf')), file(1, B));
    assert.deepEqual(await hosts(search, 'sha256', A.sha256), []);
    assert.deepEqual(await hosts(search, 'sha256', B.sha256), ['001']);
    assert.deepEqual(await hosts(search, 'sha1', A.sha1), []);
    assert.deepEqual(await hosts(search, 'sha1', B.sha1), ['001']);
    assert.deepEqual(await hosts(search, 'md5', B.md5), ['001']);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    await store.close();
  });

  it('drops digests that are no longer computed, and takes them up again', async () => {
    const { store, search, db } = await storeWith(file(0, A));
    await store.commit({ agentId: '001', upserts: [file(1, { sha256: A.sha256 })], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', Buffer.from('/etc/app.conf')), file(1, { sha256: A.sha256 }));
    assert.deepEqual(await hosts(search, 'md5', A.md5), []);
    assert.deepEqual(await hosts(search, 'sha256', A.sha256), ['001']);
    await store.commit({ agentId: '001', upserts: [file(2, B)], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', Buffer.from('/etc/app.conf')), file(2, B));
    assert.deepEqual(await hosts(search, 'md5', B.md5), ['001']);
    assert.deepEqual(await hosts(search, 'sha256', A.sha256), []);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    await store.close();
  });

  it('writes several versions of one row in one batch as the last one', async () => {
    const { store, search, db } = await storeWith(file(0, A));
    await store.commit({ agentId: '001', upserts: [file(1, B), file(2, A), file(3, B)], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', Buffer.from('/etc/app.conf')), file(3, B));
    assert.deepEqual(await hosts(search, 'sha256', A.sha256), []);
    assert.deepEqual(await hosts(search, 'sha256', B.sha256), ['001']);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    await store.close();
  });

  it('writes new and existing rows mixed in any order', async () => {
    const { store, search, db } = await storeWith(file(0, A));
    const other = (version: number, hashes: FileState['hashes']): FileState => ({ ...file(version, hashes), path: Buffer.from('/etc/other.conf') });
    const third = (version: number, hashes: FileState['hashes']): FileState => ({ ...file(version, hashes), path: Buffer.from('/etc/third.conf') });
    await store.commit({ agentId: '001', upserts: [file(1, A), other(0, B), file(2, B), third(0, A)], deletes: [], events: [] });
    await store.commit({ agentId: '001', upserts: [other(1, B), third(1, B)], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', Buffer.from('/etc/app.conf')), file(2, B));
    assert.deepEqual(await store.getBaselineState('001', Buffer.from('/etc/other.conf')), other(1, B));
    assert.deepEqual(await store.getBaselineState('001', Buffer.from('/etc/third.conf')), third(1, B));
    assert.deepEqual(await hosts(search, 'sha256', A.sha256), []);
    assert.equal((await search.hostsWithDigest('sha256', B.sha256, 10)).length, 3);
    assert.equal(await store.countBaseline('001'), 3);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    await store.close();
  });

  // A batch reads its rows first (getBaselineStates), and the write uses what it read instead of reading each row
  // again; a row that changed or went in between must still end up exactly as written.
  const appConf = Buffer.from('/etc/app.conf');

  it('writes the rows its batch read, with their digests moved in the indexes', async () => {
    const { store, search, db } = await storeWith(file(0, A));
    await store.getBaselineStates('001', [appConf]);
    await store.commit({ agentId: '001', upserts: [file(1, B)], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', appConf), file(1, B));
    assert.deepEqual(await hosts(search, 'sha256', A.sha256), []);
    assert.deepEqual(await hosts(search, 'sha256', B.sha256), ['001']);
    assert.deepEqual(await hosts(search, 'md5', A.md5), ['001']);
    await store.getBaselineStates('001', [appConf]);
    await store.commit({ agentId: '001', upserts: [file(2, B), file(3, A)], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', appConf), file(3, A));
    assert.deepEqual(await hosts(search, 'sha256', B.sha256), []);
    assert.deepEqual(await hosts(search, 'sha256', A.sha256), ['001']);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    await store.close();
  });

  it('writes a row whose digests changed after its batch read it', async () => {
    const { store, search, db } = await storeWith(file(0, A));
    await store.getBaselineStates('001', [appConf]);
    // Another writer sets a digest the batch believes unchanged.
    const other = new Database(store.path);
    other.prepare('UPDATE baseline SET md5 = ? WHERE agent_id = ?').run('c'.repeat(32), '001');
    other.close();
    await store.commit({ agentId: '001', upserts: [file(1, A)], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', appConf), file(1, A));
    assert.deepEqual(await hosts(search, 'md5', A.md5), ['001']);
    assert.deepEqual(await hosts(search, 'md5', 'c'.repeat(32)), []);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    await store.close();
  });

  it('writes a row deleted after its batch read it', async () => {
    const { store, search, db } = await storeWith(file(0, A));
    await store.getBaselineStates('001', [appConf]);
    const other = new Database(store.path);
    other.prepare('DELETE FROM baseline WHERE agent_id = ?').run('001');
    other.close();
    await store.commit({ agentId: '001', upserts: [file(1, B)], deletes: [], events: [] });
    assert.deepEqual(await store.getBaselineState('001', appConf), file(1, B));
    assert.equal(await store.countBaseline('001'), 1);
    assert.deepEqual(await hosts(search, 'sha256', B.sha256), ['001']);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    await store.close();
  });
});

describe('readFingerprintPages', () => {
  it('packs what readFingerprints reads, byte for byte, over several pages and ranges', async () => {
    const path = join(dir, `pages-${n++}.db`);
    const store = SqliteStore.open(path);
    await store.upsertAgent({ id: '001', name: 'host1' });
    await store.upsertAgent({ id: '002', name: 'host2' });
    const names = [Buffer.from('plain'), Buffer.from([0xff, 0xfe, 0x0a]), Buffer.from('ü'), Buffer.alloc(300, 0x61)];
    const upserts: FileState[] = [];
    for (let i = 0; i < 1300; i++) {
      const name = Buffer.concat([names[i % names.length] as Buffer, Buffer.from(String(i))]);
      upserts.push({
        ...file(i, i % 3 === 0 ? {} : A),
        path: Buffer.concat([Buffer.from(i % 2 === 0 ? '/etc/' : '/usr/'), name]),
        uname: i % 5 === 0 ? 'jürgen' : 'root',
      });
    }
    await store.commit({ agentId: '001', upserts, deletes: [], events: [] });
    await store.commit({ agentId: '002', upserts: upserts.slice(0, 10), deletes: [], events: [] });
    const ranges = [subtreeKeyRange(Buffer.from('/etc')), subtreeKeyRange(Buffer.from('/usr'))];
    const rows: { key: Buffer; fingerprint: string }[] = [];
    for await (const chunk of store.readFingerprints('001', ranges)) rows.push(...chunk);
    const cursor = new FingerprintCursor(store.readFingerprintPages('001', ranges)[Symbol.asyncIterator]());
    const packed: { key: Buffer; fingerprint: string }[] = [];
    while (cursor.has() || (await cursor.fill())) {
      const { key, fingerprint } = cursor.entry();
      packed.push({ key: Buffer.from(key), fingerprint });
      cursor.advance();
    }
    assert.equal(rows.length, 1300);
    assert.deepEqual(packed, rows);
    await store.close();
  });
});
