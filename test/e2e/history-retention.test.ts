import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BUILTIN_RULES } from '../../src/core/builtin-rules.js';
import { CHECK_ALL } from '../../src/core/check-set.js';
import type { EventRecord } from '../../src/core/event-record.js';
import { diffFileStates } from '../../src/core/file-change.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/storage/store.js';
import { readAlertsFile } from '../support/alerts.js';
import { CustosService } from '../support/custos-service.js';
import { fileState } from '../support/file-states.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../support/postgres-test-url.js';
import { runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * `database.history_retention` end to end, on both engines: a real manager process drops the history past
 * retention at start, and `custos verify` proves what is kept and says where it starts, in the same words.
 */

function change(path: string, timestamp: string): EventRecord {
  const p = Buffer.from(path);
  const diff = diffFileStates(fileState({ path: p }), fileState({ path: p, size: 9 }), CHECK_ALL);
  assert.ok(diff !== undefined);
  return { agentId: '001', timestamp, change: diff, verdict: { verdict: 'unknown' }, rule: BUILTIN_RULES.modified, outcome: 'alerted' };
}

const schema = testSchemaName('custos_retention');
const running: CustosService[] = [];
const verified: string[] = [];

describe('history retention on a running manager', { timeout: 120_000 }, () => {
  after(async () => {
    for (const service of running) await service.kill();
    await dropSchemas([schema]);
  });

  const engines: [string, (data: string) => { yaml: string; open: () => Promise<Store>; verifyArgs: string[] }][] = [
    ['sqlite', (data) => ({ yaml: '', open: async () => SqliteStore.open(join(data, 'custos.db')), verifyArgs: ['--data', data] })],
    [
      'postgres',
      () => ({
        yaml: `  engine: postgres\n  url: ${schemaUrl(schema)}\n`,
        open: () => PostgresStore.open(schemaUrl(schema)),
        verifyArgs: ['--store', schemaUrl(schema)],
      }),
    ],
  ];
  for (const [engine, setup] of engines) {
    it(`drops what is past retention and verify says where the kept chain starts (${engine})`, async () => {
      const data = join(tempDir('custos-retention-'), 'manager');
      mkdirSync(data, { mode: 0o700 });
      const { yaml, open, verifyArgs } = setup(data);
      writeFileSync(join(data, 'custos.yml'), `database:\n${yaml}  history_retention: 30d\nmanager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n`);
      // A history a year old, then one record of today, written before the manager starts.
      const store = await open();
      await store.commit({
        agentId: '001',
        upserts: [],
        deletes: [],
        events: [change('/etc/a', '2025-11-02T08:00:00.000Z'), change('/etc/b', '2025-11-03T08:00:00.000Z'), change('/etc/c', '2025-12-24T08:00:00.000Z')],
      });
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [change('/etc/d', new Date().toISOString())] });
      const old: { id: number; hash: string }[] = [];
      for await (const e of store.queryEvents({ agentId: '001' })) old.push({ id: e.id, hash: e.hash });
      await store.close();

      const manager = new CustosService(['manager', 'start', '--data', data, '--listen', '127.0.0.1:0']);
      running.push(manager);
      const dropped = await manager.waitForMessage('history retention dropped the records before the boundary', 30_000);
      assert.equal(dropped.records, 3);
      assert.deepEqual(dropped.agents, ['001']);
      await manager.waitForMessage(/history retention dropped its records made before/, 30_000);
      await manager.kill();
      // Rule 581: where the kept chain starts, sent off the host with the alerts.
      const trimmed = readAlertsFile(join(data, 'alerts.json')).filter((a) => Number(a.rule.id) === 581);
      assert.equal(trimmed.length, 1);
      assert.equal(trimmed[0]?.agent.id, '001');
      assert.equal((trimmed[0] as { custos?: { chain_from?: string } }).custos?.chain_from, old[2]?.hash);
      assert.match(trimmed[0]?.full_log ?? '', /history retention dropped its records made before \d{4}-\d\d-01T00:00:00\.000Z \(3 in all\)/);

      const verify = await runCustos(['verify', ...verifyArgs]);
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      const lastDropped = old[2];
      const firstKept = old[3];
      assert.ok(lastDropped !== undefined && firstKept !== undefined);
      assert.match(verify.stdout, /^history intact: 1 records verified\n/);
      assert.ok(
        verify.stdout.includes(`agent 001: kept history starts at record ${firstKept.id} (`) &&
          verify.stdout.includes(
            `chained from ${lastDropped.hash} (3 older records dropped by retention, the last ${lastDropped.id} at 2025-12-24T08:00:00.000Z)`,
          ),
        verify.stdout,
      );
      const json = await runCustos(['verify', ...verifyArgs, '--json']);
      const report = JSON.parse(json.stdout) as { ok: boolean; starts: { lastDroppedHash: string; firstKept: { id: number } }[] };
      assert.equal(report.ok, true);
      assert.equal(report.starts[0]?.lastDroppedHash, lastDropped.hash);
      verified.push(verify.stdout.replace(/\(\d{4}-\d\d-\d\dT[^)]*\)/, '(today)'));
    });
  }

  it('is reported, not silently ignored, by a standalone check, which keeps its history whole', async () => {
    const dir = tempDir('custos-retention-check-');
    const watched = join(dir, 'watched');
    mkdirSync(watched);
    writeFileSync(join(watched, 'a.conf'), 'a\n');
    const config = join(dir, 'custos.yml');
    writeFileSync(config, `database:\n  path: ${join(dir, 'custos.db')}\n  history_retention: 30d\n`);
    const run = await runCustos(['check', '--config', config, watched]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /warning: .*database\.history_retention.*applies to the manager \(custos manager start\) only/);
  });

  it('says the same on both engines', () => {
    assert.equal(verified.length, 2);
    assert.equal(verified[0], verified[1]);
  });
});
