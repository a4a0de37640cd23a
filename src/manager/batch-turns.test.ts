import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { SerialQueue } from '../core/serial-queue.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { ChangeBatch } from '../storage/store.js';
import { BatchTurns } from './batch-turns.js';

const dir = tempDir();
let n = 0;

function batch(agentId: string, sequence: number): ChangeBatch {
  return { agentId, sequence, upserts: [fileState({ path: Buffer.from(`/etc/${agentId}-${sequence}`) })], deletes: [], events: [] };
}

/** Baseline rows another connection sees: what is committed. */
function committedRows(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return Number(db.prepare('SELECT count(*) FROM baseline').pluck().get());
  } finally {
    db.close();
  }
}

/** Runs each batch through the turns at once; returns what was committed when each one's work began. */
async function runAll(store: SqliteStore, batches: readonly ChangeBatch[]): Promise<number[]> {
  const turns = new BatchTurns(new SerialQueue(), store);
  const seenAtStart: number[] = [];
  await Promise.all(
    batches.map((b, i) =>
      turns.run(b.agentId, async () => {
        seenAtStart[i] = committedRows(store.path);
        await store.commit(b);
      }),
    ),
  );
  return seenAtStart;
}

describe('BatchTurns', () => {
  it('with group commit, starts the next agent once a batch is handed in, so batches that arrive together share a COMMIT', async () => {
    const store = SqliteStore.open(join(dir, `turns-${n++}.db`), { groupCommit: {} });
    const seen = await runAll(store, [batch('001', 1), batch('002', 1), batch('003', 1)]);
    assert.deepEqual(seen, [0, 0, 0], 'each started before the one before it was committed');
    assert.equal(committedRows(store.path), 3);
    await store.close();
  });

  it("keeps one agent's batches apart: the next starts only once the one before is committed", async () => {
    const store = SqliteStore.open(join(dir, `turns-${n++}.db`), { groupCommit: {} });
    const seen = await runAll(store, [batch('001', 1), batch('002', 1), batch('001', 2), batch('001', 3)]);
    assert.equal(seen[0], 0);
    assert.equal(seen[1], 0);
    assert.ok((seen[2] ?? 0) >= 1, `001's 2nd batch saw its 1st committed (${seen[2]})`);
    assert.ok((seen[3] ?? 0) > (seen[2] ?? 0), `001's 3rd batch saw its 2nd committed (${seen[3]})`);
    assert.equal(await store.lastSequence('001'), 3);
    await store.close();
  });

  it('without group commit, runs each batch whole in the turn, one COMMIT each', async () => {
    const store = SqliteStore.open(join(dir, `turns-${n++}.db`));
    const seen = await runAll(store, [batch('001', 1), batch('002', 1), batch('003', 1)]);
    assert.deepEqual(seen, [0, 1, 2]);
    await store.close();
  });

  it('hands a refused batch its own error and goes on with the next', async () => {
    const store = SqliteStore.open(join(dir, `turns-${n++}.db`), { groupCommit: {} });
    const turns = new BatchTurns(new SerialQueue(), store);
    const results = await Promise.allSettled([
      turns.run('001', () => store.commit(batch('001', 2))),
      turns.run('002', () => store.commit(batch('002', 1))),
      turns.run('001', () => store.commit(batch('001', 1))),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'fulfilled', 'fulfilled'],
    );
    assert.equal(await store.lastSequence('001'), 1);
    await store.close();
  });
});
