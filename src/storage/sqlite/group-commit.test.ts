import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileState } from '../../../test/support/file-states.js';
import { describeStoreContract } from '../../../test/support/store-contract.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { SequenceError, type ChangeBatch } from '../store.js';
import { GroupCommit } from './group-commit.js';
import { SqliteStore } from './sqlite-store.js';

const dir = tempDir();
let n = 0;

// Every case of the storage contract, with agent batches committed through groups.
describeStoreContract('sqlite (group commit)', {
  async open() {
    return SqliteStore.open(join(dir, `contract-${n++}.db`), { groupCommit: {} });
  },
  async tamper(store, sql) {
    const db = new Database((store as SqliteStore).path);
    db.exec('DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;');
    db.exec(sql);
    db.close();
  },
});

function batch(agentId: string, sequence: number, file: string): ChangeBatch {
  return { agentId, sequence, upserts: [fileState({ path: Buffer.from(file) })], deletes: [], events: [] };
}

/** Baseline rows as another connection sees them: what is committed. */
function committedRows(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.prepare('SELECT count(*) FROM baseline').pluck().get());
  } finally {
    db.close();
  }
}

describe('group commit (SQLite)', () => {
  it('commits the batches handed in together in one transaction, and settles each only after it', async () => {
    const path = join(dir, `group-${n++}.db`);
    const store = SqliteStore.open(path, { groupCommit: {} });
    const settled: string[] = [];
    const pending = ['001', '002', '003'].map((agent) => store.commit(batch(agent, 1, `/etc/${agent}`)).then(() => settled.push(agent)));
    // Handed in, not committed: nobody has been answered and another connection sees nothing yet.
    await Promise.resolve();
    assert.deepEqual(settled, []);
    assert.equal(committedRows(path), 0);
    await Promise.all(pending);
    assert.deepEqual(settled, ['001', '002', '003']);
    assert.equal(committedRows(path), 3);
    for (const agent of ['001', '002', '003']) assert.equal(await store.lastSequence(agent), 1);
    await store.close();
  });

  it('refuses one batch of a group (out of turn) without touching the others', async () => {
    const path = join(dir, `group-${n++}.db`);
    const store = SqliteStore.open(path, { groupCommit: {} });
    await store.commit(batch('002', 1, '/etc/first'));
    const good = store.commit(batch('001', 1, '/etc/a'));
    const refused = store.commit(batch('002', 3, '/etc/b'));
    const replayed = store.commit(batch('002', 1, '/etc/c'));
    const next = store.commit(batch('003', 1, '/etc/d'));
    await good;
    await next;
    await assert.rejects(refused, (e) => e instanceof SequenceError && e.expected === 2);
    await assert.rejects(replayed, (e) => e instanceof SequenceError && e.expected === 2);
    assert.equal(await store.lastSequence('002'), 1);
    assert.equal(await store.getBaselineState('002', Buffer.from('/etc/b')), undefined, 'nothing of a refused batch is written');
    assert.equal(await store.getBaselineState('002', Buffer.from('/etc/c')), undefined);
    assert.notEqual(await store.getBaselineState('001', Buffer.from('/etc/a')), undefined);
    assert.notEqual(await store.getBaselineState('003', Buffer.from('/etc/d')), undefined);
    await store.close();
  });

  it('writes a full group at once, and the batches still waiting before any other commit', async () => {
    const path = join(dir, `group-${n++}.db`);
    const store = SqliteStore.open(path, { groupCommit: { maxBatches: 2 } });
    const first = store.commit(batch('001', 1, '/etc/a'));
    void store.commit(batch('002', 1, '/etc/b'));
    // Two batches fill the group: written before `commit` returned, without waiting for the event loop.
    assert.equal(committedRows(path), 2);
    await first;
    void store.commit(batch('003', 1, '/etc/c'));
    assert.equal(committedRows(path), 2);
    // A commit that is not an agent batch goes after what was handed in before it.
    await store.commit({ agentId: '004', upserts: [fileState({ path: Buffer.from('/etc/d') })], deletes: [], events: [] });
    assert.equal(committedRows(path), 4);
    assert.equal(await store.lastSequence('003'), 1);
    await store.close();
  });

  it('writes what is waiting when the store closes', async () => {
    const path = join(dir, `group-${n++}.db`);
    const store = SqliteStore.open(path, { groupCommit: {} });
    const handed = store.commit(batch('001', 1, '/etc/a'));
    await store.close();
    await handed;
    assert.equal(committedRows(path), 1);
  });

  it('fails every batch of a group whose transaction SQLite rolled back whole (as a full disk does)', async () => {
    const db = new Database(join(dir, `raw-${n++}.db`));
    db.exec('CREATE TABLE t (v TEXT)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const group = new GroupCommit<string>(
      (v) => {
        if (v === 'lost') {
          // What SQLite does on SQLITE_FULL or an I/O error: the whole transaction is gone, savepoints and all.
          db.exec('ROLLBACK');
          throw new Error('database or disk is full');
        }
        insert.run(v);
      },
      { run: (work) => db.transaction(work)(), open: () => db.inTransaction },
      () => 1,
    );
    const outcomes = await Promise.allSettled(['a', 'lost', 'b'].map((v) => group.add(v)));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 0, 'nothing of the group was written');
    // And the next group commits as usual.
    await group.add('c');
    assert.deepEqual(db.prepare('SELECT v FROM t').pluck().all(), ['c']);
    db.close();
  });

  it('writes a group without savepoints, and with them only to leave a failing batch out', async () => {
    const db = new Database(join(dir, `raw-${n++}.db`));
    db.exec('CREATE TABLE t (v TEXT)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    let savepoints = 0;
    const group = new GroupCommit<string>(
      (v) => {
        insert.run(v);
        if (v === 'bad') throw new Error('refused after writing');
      },
      {
        run: (work) => {
          if (db.inTransaction) savepoints++;
          db.transaction(work)();
        },
        open: () => db.inTransaction,
      },
      () => 1,
    );
    await Promise.all(['a', 'b'].map((v) => group.add(v)));
    assert.equal(savepoints, 0, 'a group that applies is written in one transaction, nothing nested');
    const outcomes = await Promise.allSettled(['c', 'bad', 'd'].map((v) => group.add(v)));
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.equal(savepoints, 3, 'written again, each batch in a savepoint');
    assert.deepEqual(db.prepare('SELECT v FROM t ORDER BY rowid').pluck().all(), ['a', 'b', 'c', 'd'], 'each batch once, nothing of the failing one');
    // A lone batch that fails is simply refused.
    await assert.rejects(group.add('bad'), /refused/);
    assert.equal(savepoints, 3);
    assert.equal(db.prepare('SELECT count(*) FROM t').pluck().get(), 4);
    db.close();
  });
});
