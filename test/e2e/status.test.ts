import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

interface StatusJson {
  mode: string;
  database: string;
  monitored: { path: string }[];
  lastCheck?: { mode: string; paths: string[]; entries: number; added: number; modified: number; deleted: number; alerts: number };
  store: { baselineEntries: number; storedAlerts: number; undeliveredAlerts: number; chainHead?: { length: number; lastHash: string } };
}

/** `custos status` through the real CLI, on a real baseline built by real checks. */
describe('custos status', () => {
  it('says there is no database, names it, and creates nothing', async () => {
    const dir = tempDir('custos-status-');
    const db = join(dir, 'sub', 'custos.db');
    const run = await runCustos(['status', '--db', db]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, new RegExp(`no baseline database at ${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.deepEqual(readdirSync(dir), [], 'status created something');
  });

  it('reports the monitored paths, the last check, the baseline, the alerts and the chain head', async () => {
    const dir = tempDir('custos-status-');
    const watched = join(dir, 'watched');
    mkdirSync(watched);
    writeFileSync(join(watched, 'a'), 'one\n');
    writeFileSync(join(watched, 'b'), 'one\n');
    const db = join(dir, 'custos.db');
    const config = join(dir, 'custos.yml');
    writeFileSync(config, `syscheck:\n  directories:\n    - path: ${watched}\n`);
    assert.equal((await runCustos(['check', '--config', config, '--db', db])).code, 0);
    writeFileSync(join(watched, 'a'), 'two\n');
    writeFileSync(join(watched, 'c'), 'new\n');
    assert.equal((await runCustos(['check', '--config', config, '--db', db])).code, 1);

    const run = await runCustos(['status', '--config', config, '--db', db, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const status = JSON.parse(run.stdout) as StatusJson;
    assert.equal(status.mode, 'standalone');
    assert.equal(status.database, db);
    assert.deepEqual(
      status.monitored.map((d) => d.path),
      [watched],
    );
    assert.equal(status.lastCheck?.mode, 'check');
    assert.deepEqual(status.lastCheck?.paths, []);
    assert.equal(status.lastCheck?.modified, 1);
    assert.equal(status.lastCheck?.added, 1);
    assert.equal(status.lastCheck?.alerts, 2);
    // The directory and its three files.
    assert.equal(status.store.baselineEntries, 4);
    const alerts = jsonLines((await runCustos(['alerts', '--config', config, '--db', db, '--json'])).stdout);
    assert.equal(status.store.storedAlerts, alerts.length);
    assert.equal(status.store.undeliveredAlerts, 0);
    const events = jsonLines((await runCustos(['events', '--config', config, '--db', db, '--json'])).stdout);
    assert.equal(status.store.chainHead?.length, events.length);
    assert.match(status.store.chainHead?.lastHash ?? '', /^[0-9a-f]{64}$/);

    const human = await runCustos(['status', '--config', config, '--db', db]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^baseline: +4 entries$/m);
    assert.match(human.stdout, /^last check: .* 1 added, 1 modified, 0 deleted, 2 alerts$/m);
    assert.ok(!existsSync(join(dir, 'hashdb.sqlite')), 'status created a known-hash database');
  });
});
