import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileState } from '../../../test/support/file-states.js';
import { describeHistoryRetentionContract } from '../../../test/support/history-retention-contract.js';
import { describeStoreContract } from '../../../test/support/store-contract.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { SqliteStore } from './sqlite-store.js';

const dir = tempDir();
let n = 0;

describeStoreContract('sqlite', {
  async open() {
    return SqliteStore.open(join(dir, `store-${n++}.db`));
  },
  async tamper(store, sql) {
    // What an attacker with the file does: drop the append-only triggers, then edit.
    const db = new Database((store as SqliteStore).path);
    db.exec('DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;');
    db.exec(sql);
    db.close();
  },
});

describe('SqliteStore', () => {
  it('refuses updates and deletes of the history through SQL', async () => {
    const path = join(dir, 'append-only.db');
    const store = SqliteStore.open(path);
    await store.close();
    const db = new Database(path);
    db.exec("INSERT INTO events (agent_id, ts, kind, outcome, path_key, data, prev_hash, hash) VALUES ('1','t','added','alerted',x'00','{}','0','0')");
    assert.throws(() => db.exec("UPDATE events SET outcome = 'x'"), /append-only/);
    assert.throws(() => db.exec('DELETE FROM events'), /append-only/);
    db.close();
  });
  it('checkpoints the WAL from its own thread when asked, and closes cleanly', async () => {
    const path = join(dir, 'checkpoints.db');
    const store = SqliteStore.open(path, { backgroundCheckpoints: true });
    // About 8 MB of baseline rows: past SQLite's own 4 MB checkpoint, which the store now holds off until 64 MB,
    // so only the thread can have copied them into the database file.
    const upserts = Array.from({ length: 20_000 }, (_, i) => fileState({ path: Buffer.from(`/srv/${String(i).padStart(6, '0')}/${'n'.repeat(200)}`) }));
    for (let i = 0; i < upserts.length; i += 1000) await store.commit({ agentId: '001', upserts: upserts.slice(i, i + 1000), deletes: [], events: [] });
    const deadline = Date.now() + 10_000;
    while (statSync(path).size < 4 << 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(statSync(path).size >= 4 << 20, `the thread copied the WAL into the database file (${statSync(path).size} bytes)`);
    await store.close();
    assert.equal(existsSync(`${path}-wal`), false, 'the WAL is folded in and removed at close');
    const reopened = SqliteStore.open(path);
    assert.equal(await reopened.countBaseline('001'), upserts.length);
    await reopened.close();
  });
  it('reports a file it cannot open with a clear error', () => {
    assert.throws(() => SqliteStore.open('/proc/custos/none.db'), /failed to open the SQLite store \/proc\/custos\/none\.db/);
  });
});

describeHistoryRetentionContract('sqlite', {
  async open() {
    return SqliteStore.open(join(dir, `retention-${n++}.db`));
  },
  async tamper(store, sql) {
    const db = new Database((store as SqliteStore).path);
    db.exec(sql);
    db.close();
  },
});
