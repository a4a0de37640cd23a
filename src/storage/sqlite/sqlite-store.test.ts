import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, it } from 'node:test';
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
  it('reports a file it cannot open with a clear error', () => {
    assert.throws(() => SqliteStore.open('/proc/custos/none.db'), /failed to open the SQLite store \/proc\/custos\/none\.db/);
  });
});
