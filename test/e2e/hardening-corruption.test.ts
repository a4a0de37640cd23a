import assert from 'node:assert/strict';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { checkWorkspace } from '../support/check-workspace.js';
import { runCustos } from '../support/run-custos.js';

const PAGE_SIZE = 4096;

/**
 * Overwrites, in place, the B-tree headers of a few of the baseline's leaf pages so that each claims to hold a
 * single row: the bytes an intruder or a failing disk could change, the file still opens and its schema reads.
 */
function damageBaselinePages(databasePath: string): void {
  const db = new Database(databasePath, { readonly: true });
  const leaves = db.prepare("SELECT pageno FROM dbstat WHERE name = 'baseline' AND pagetype = 'leaf' ORDER BY pageno").pluck().all() as number[];
  db.close();
  assert.ok(leaves.length > 10, `the baseline spans ${leaves.length} leaf pages`);
  const fd = openSync(databasePath, 'r+');
  try {
    for (const page of leaves.slice(3, 9)) writeSync(fd, Buffer.from([0, 1]), 0, 2, (page - 1) * PAGE_SIZE + 3);
  } finally {
    closeSync(fd);
  }
}

describe('a database damaged in place (issue 11, case 10)', () => {
  it('check refuses it with a coded error before any alert, and verify reports it', { timeout: 60_000 }, async () => {
    const ws = checkWorkspace();
    for (let i = 0; i < 2000; i++) writeFileSync(join(ws.tree, `file-${String(i).padStart(4, '0')}`), `${i}\n`);
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    writeFileSync(join(ws.tree, 'implant'), 'x');
    const alerted = await runCustos(['check', ...ws.args]);
    assert.equal(alerted.code, 1, alerted.stderr);
    const alertsFile = join(ws.dir, 'alerts.json');
    const alertsBefore = readFileSync(alertsFile, 'utf8');
    const database = join(ws.dir, 'custos.db');
    assert.ok(!existsSync(`${database}-wal`) || readFileSync(`${database}-wal`).length === 0, 'the check closed with its WAL checkpointed into the file');

    damageBaselinePages(database);
    const run = await runCustos(['check', '--json', ...ws.args]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, new RegExp(`the database ${database.replace(/[.]/g, '\\.')} is damaged \\(.+\\): not scanning against it`));
    assert.equal(run.stdout, '', 'no alert printed');
    assert.equal(readFileSync(alertsFile, 'utf8'), alertsBefore, 'no alert written');

    const verify = await runCustos(['verify', ...ws.args]);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(verify.stdout, /history BROKEN at record 0 of agent 000: the database file is damaged: /);
    const json = await runCustos(['verify', '--json', ...ws.args]);
    assert.equal(json.code, 1);
    const report = JSON.parse(json.stdout) as { ok: boolean; firstBroken: { reason: string } };
    assert.equal(report.ok, false);
    assert.match(report.firstBroken.reason, /damaged/);
  });

  it('a file that is not a database at all is refused the same way', { timeout: 60_000 }, async () => {
    const ws = checkWorkspace();
    writeFileSync(join(ws.tree, 'hosts'), 'a\n');
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    const database = join(ws.dir, 'custos.db');
    // The header's magic string overwritten: SQLite no longer takes it for a database.
    const fd = openSync(database, 'r+');
    writeSync(fd, Buffer.alloc(16, 0x41), 0, 16, 0);
    closeSync(fd);
    const run = await runCustos(['check', ...ws.args]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /is damaged \(file is not a database\)/);
    const verify = await runCustos(['verify', ...ws.args]);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(verify.stdout, /the database file is damaged: file is not a database/);
  });
});
