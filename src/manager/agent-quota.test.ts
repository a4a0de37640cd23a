import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { fileState } from '../../test/support/file-states.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { enforceQuota, quotaReached } from './agent-quota.js';

const QUOTA = { baselineEntries: 3, baselineBytes: 1 << 30, historyRecords: 100, historyBytes: 1 << 30 };

/** The usage as counted from the rows themselves, to hold the triggers' running totals against. */
function countedUsage(path: string, agentId: string): { entries: number; bytes: number } {
  const db = new Database(path, { readonly: true });
  try {
    const row = db
      .prepare(
        `SELECT count(*) AS entries, ifnull(sum(length(path_key) + length(fingerprint) + ifnull(length(attributes), 0) + ifnull(length(issues), 0) + ifnull(length(link_target), 0)
           + ifnull(length(uname), 0) + ifnull(length(gname), 0) + ifnull(length(md5), 0) + ifnull(length(sha1), 0) + ifnull(length(sha256), 0)), 0) AS bytes FROM baseline WHERE agent_id = ?`,
      )
      .get(agentId) as { entries: number; bytes: number };
    return row;
  } finally {
    db.close();
  }
}

describe('agent usage and quota', () => {
  it('the store keeps each agent’s baseline usage equal to its rows through inserts, updates and deletes', async () => {
    const path = join(tempDir(), 'custos.db');
    const store = SqliteStore.open(path);
    try {
      const p = (name: string): Buffer => Buffer.from(`/srv/${name}`);
      await store.commit({ agentId: '001', upserts: ['a', 'b', 'c'].map((n) => fileState({ path: p(n) })), deletes: [], events: [] });
      await store.commit({ agentId: '002', upserts: [fileState({ path: p('other') })], deletes: [], events: [] });
      await store.commit({ agentId: '001', upserts: [fileState({ path: p('a'), uname: 'a-much-longer-user-name' })], deletes: [p('b')], events: [] });
      const usage = await store.agentUsage('001');
      const counted = countedUsage(path, '001');
      assert.equal(usage.baselineEntries, 2);
      assert.equal(usage.baselineEntries, counted.entries);
      assert.equal(usage.baselineBytes, counted.bytes);
      assert.equal((await store.agentUsage('002')).baselineEntries, 1);
      assert.deepEqual(await store.agentUsage('999'), { baselineEntries: 0, baselineBytes: 0, historyRecords: 0, historyBytes: 0 });
    } finally {
      await store.close();
    }
  });

  it('keeps the baseline usage equal to the rows through updates of rows the batch read first, as the manager does', async () => {
    const path = join(tempDir(), 'custos.db');
    const store = SqliteStore.open(path, { groupCommit: {} });
    try {
      const p = (name: string): Buffer => Buffer.from(`/srv/${name}`);
      await store.commit({ agentId: '001', upserts: ['a', 'b', 'c'].map((n) => fileState({ path: p(n) })), deletes: [], events: [] });
      const long = { md5: 'b'.repeat(32), sha1: 'b'.repeat(40), sha256: 'b'.repeat(64) };
      // Read (as ingest does), then write: longer names, new and dropped digests, one row twice, one row deleted.
      await store.getBaselineStates('001', [p('a'), p('b'), p('c')]);
      await store.commit({
        agentId: '001',
        sequence: 1,
        upserts: [
          fileState({ path: p('a'), uname: 'a-much-longer-user-name', hashes: long }),
          fileState({ path: p('b'), gname: 'g', hashes: { sha256: 'c'.repeat(64) } }),
          fileState({ path: p('a'), uname: 'short', hashes: long }),
        ],
        deletes: [p('c')],
        events: [],
      });
      const counted = countedUsage(path, '001');
      const usage = await store.agentUsage('001');
      assert.equal(usage.baselineEntries, 2);
      assert.equal(usage.baselineBytes, counted.bytes);
      // A batch that fails writes nothing of its usage either.
      await store.getBaselineStates('001', [p('a')]);
      await assert.rejects(
        store.commit({ agentId: '001', sequence: 3, upserts: [fileState({ path: p('a'), uname: 'x'.repeat(200) })], deletes: [], events: [] }),
      );
      assert.equal((await store.agentUsage('001')).baselineBytes, counted.bytes);
    } finally {
      await store.close();
    }
  });

  it('names the first limit reached, and raises once per episode', async () => {
    assert.equal(quotaReached({ baselineEntries: 2, baselineBytes: 10, historyRecords: 0, historyBytes: 0 }, QUOTA), undefined);
    assert.equal(quotaReached({ baselineEntries: 3, baselineBytes: 10, historyRecords: 0, historyBytes: 0 }, QUOTA), 'baseline entries 3 of 3');
    assert.equal(quotaReached({ baselineEntries: 0, baselineBytes: 0, historyRecords: 100, historyBytes: 0 }, QUOTA), 'history records 100 of 100');
    const store = SqliteStore.open(join(tempDir(), 'custos.db'));
    try {
      const raised: string[] = [];
      const raise = async (reason: string): Promise<void> => void raised.push(reason);
      const states = ['a', 'b', 'c'].map((n) => fileState({ path: Buffer.from(`/srv/${n}`) }));
      await store.commit({ agentId: '001', upserts: states, deletes: [], events: [] });
      assert.equal(await enforceQuota(store, '001', QUOTA, raise), 'baseline entries 3 of 3');
      assert.equal(await enforceQuota(store, '001', QUOTA, raise), 'baseline entries 3 of 3');
      assert.deepEqual(raised, ['baseline entries 3 of 3']);
      await store.commit({ agentId: '001', upserts: [], deletes: [Buffer.from('/srv/a')], events: [] });
      assert.equal(await enforceQuota(store, '001', QUOTA, raise), undefined);
      await store.commit({ agentId: '001', upserts: [fileState({ path: Buffer.from('/srv/a') })], deletes: [], events: [] });
      assert.equal(await enforceQuota(store, '001', QUOTA, raise), 'baseline entries 3 of 3');
      assert.equal(raised.length, 2, 'a new episode alerts again');
    } finally {
      await store.close();
    }
  });
});
