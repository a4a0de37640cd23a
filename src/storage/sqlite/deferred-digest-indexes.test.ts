import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { FileState } from '../../core/file-state.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { DeferredDigestIndexes, DIGEST_INDEXES, FIRST_FILL_CACHE_KIB } from './deferred-digest-indexes.js';
import { SqliteConnection } from './sqlite-connection.js';
import { SqliteFleetSearch } from './sqlite-fleet-search.js';
import { SqliteStore } from './sqlite-store.js';

const dir = tempDir();
let n = 0;

function digest(algorithm: string, i: number): string {
  return createHash(algorithm).update(String(i)).digest('hex');
}

function files(count: number, prefix = '/srv/f'): FileState[] {
  return Array.from({ length: count }, (_, i) => ({
    path: Buffer.from(`${prefix}${String(i).padStart(6, '0')}`),
    type: 'file',
    size: i,
    mode: 0o644,
    uid: 0,
    gid: 0,
    mtimeNs: 1_700_000_000_000_000_000n + BigInt(i),
    ctimeNs: 1_700_000_000_000_000_000n + BigInt(i),
    inode: i + 1,
    dev: 2049,
    nlink: 1,
    hashes: { md5: digest('md5', i), sha1: digest('sha1', i), sha256: digest('sha256', i) },
    issues: [],
  }));
}

/** The baseline's digest indexes as sqlite_master has them: name → SQL. */
function digestIndexes(path: string): Map<string, string> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'baseline' AND name LIKE 'baseline_by_%'").all() as {
      name: string;
      sql: string;
    }[];
    return new Map(rows.filter((r) => r.name !== 'baseline_by_path').map((r) => [r.name, r.sql]));
  } finally {
    db.close();
  }
}

function freshStore(): { path: string; store: SqliteStore } {
  const path = join(dir, `deferred-${n++}.db`);
  return { path, store: SqliteStore.open(path) };
}

/**
 * The store's file opened again with an 8 MB page cache of its own, and its digest indexes asked to defer for a
 * first fill of 1,500 rows (which they do only if the baseline is empty).
 */
function deferringOn(path: string): { db: Database.Database; indexes: DeferredDigestIndexes } {
  const db = new Database(path);
  db.pragma('cache_size = -8192');
  const conn = new SqliteConnection(db);
  const indexes = new DeferredDigestIndexes(conn);
  conn.transaction(() => indexes.deferIfFirstFill(1500));
  return { db, indexes };
}

describe('deferred digest indexes', () => {
  it('are the ones the migrations create', async () => {
    const { path, store } = freshStore();
    await store.close();
    assert.deepEqual(digestIndexes(path), new Map(DIGEST_INDEXES.map((i) => [i.name, i.sql])));
  });

  it('are left out while a first scan fills an empty store, and built at its end with every row in them', async () => {
    const { path, store } = freshStore();
    await store.upsertAgent({ id: '001', name: 'host1' });
    const states = files(2500);
    await store.commit({ agentId: '001', upserts: states.slice(0, 1500), deletes: [], events: [] });
    assert.equal(digestIndexes(path).size, 0, 'no digest index while the baseline fills');
    await store.commit({
      agentId: '001',
      upserts: states.slice(1500),
      deletes: [],
      events: [],
      bookkeeping: { rootsScanned: { roots: [Buffer.from('/srv')], at: new Date().toISOString() } },
    });
    assert.deepEqual(digestIndexes(path), new Map(DIGEST_INDEXES.map((i) => [i.name, i.sql])));
    const db = new Database(path, { readonly: true });
    const search = new SqliteFleetSearch(db);
    for (const i of [0, 1499, 1500, 2499]) {
      assert.deepEqual(
        (await search.hostsWithDigest('sha256', digest('sha256', i), 10)).map((h) => h.agentId),
        ['001'],
      );
      assert.equal((await search.hostsWithDigest('md5', digest('md5', i), 10)).length, 1);
      assert.equal((await search.hostsWithDigest('sha1', digest('sha1', i), 10)).length, 1);
    }
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    db.close();
    await store.close();
  });

  it('are rebuilt when the store is opened again after a first scan that did not end', async () => {
    const { path, store } = freshStore();
    await store.upsertAgent({ id: '001', name: 'host1' });
    await store.commit({ agentId: '001', upserts: files(1200), deletes: [], events: [] });
    assert.equal(digestIndexes(path).size, 0);
    // A process that dies mid-scan never closes its store: a second connection sees what the crash would leave.
    const reopened = SqliteStore.open(path);
    assert.deepEqual(digestIndexes(path), new Map(DIGEST_INDEXES.map((i) => [i.name, i.sql])));
    await reopened.close();
    await store.close();
  });

  it('stay in place for a store that already has a baseline, for small batches and for agent batches', async () => {
    const { path, store } = freshStore();
    await store.upsertAgent({ id: '001', name: 'host1' });
    await store.commit({ agentId: '001', upserts: files(10), deletes: [], events: [] });
    assert.equal(digestIndexes(path).size, 3, 'a small first batch keeps them');
    await store.commit({ agentId: '001', upserts: files(1500, '/srv/g'), deletes: [], events: [] });
    assert.equal(digestIndexes(path).size, 3, 'a baseline that has rows keeps them');
    await store.close();
    const other = freshStore();
    await other.store.upsertAgent({ id: '002', name: 'host2' });
    await other.store.commit({ agentId: '002', upserts: files(1500), deletes: [], events: [], sequence: 1 });
    assert.equal(digestIndexes(other.path).size, 3, "a manager's agent batch keeps them");
    await other.store.close();
  });

  it('run a first fill with a small page cache and give the connection its own back once the indexes are built', async () => {
    const { path, store } = freshStore();
    await store.upsertAgent({ id: '001', name: 'host1' });
    await store.close();
    const { db, indexes } = deferringOn(path);
    assert.equal(indexes.deferred, true);
    assert.equal(db.pragma('cache_size', { simple: true }), -FIRST_FILL_CACHE_KIB, 'the fill writes with the small cache');
    indexes.restore();
    assert.equal(db.pragma('cache_size', { simple: true }), -8192, 'the connection has its own cache back');
    assert.deepEqual(digestIndexes(path), new Map(DIGEST_INDEXES.map((i) => [i.name, i.sql])));
    db.close();
  });

  it('leave the page cache alone when they are not deferred', async () => {
    const { path, store } = freshStore();
    await store.upsertAgent({ id: '001', name: 'host1' });
    await store.commit({ agentId: '001', upserts: files(10), deletes: [], events: [] });
    await store.close();
    const { db, indexes } = deferringOn(path);
    assert.equal(indexes.deferred, false, 'a baseline with rows is not a first fill');
    assert.equal(db.pragma('cache_size', { simple: true }), -8192);
    indexes.restore();
    assert.equal(db.pragma('cache_size', { simple: true }), -8192);
    db.close();
  });
});
