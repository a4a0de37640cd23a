import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Alert } from '../../src/core/build-alert.js';
import { CustosService, eventually } from '../support/custos-service.js';
import { FleetHarness, scanDelivered, type ManagerHandle } from '../support/fleet-harness.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * report_changes across a real manager and a real agent: the agent sends the changed file's content, the manager
 * keeps it and makes the diff; the agent keeps nothing once the manager has it.
 */
describe('report_changes in a fleet: diffs made on the manager', { timeout: 180_000 }, () => {
  const SECRET = 'Fleet-secret-4471-xyzzy';
  const harness = new FleetHarness(tempDir('custos-fleet-diff-'));
  const tree = join(harness.dir, 'tree');
  const data = join(harness.dir, 'agent');
  let manager: ManagerHandle;
  let agent: CustosService;
  let agentId = '';

  const fileAlerts = (path: string): Alert[] => harness.alerts().filter((a): a is Alert => 'syscheck' in a && a.syscheck.path === path);

  before(async () => {
    mkdirSync(tree);
    writeFileSync(join(tree, 'app.conf'), 'listen 80\nworkers 4\n');
    writeFileSync(join(tree, 'shadow.key'), 'k1\n');
    manager = await harness.startManager();
    const enrolled = await harness.enroll(manager, 'web1', data, ['--name', 'web1']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    agentId = enrolled.id ?? '';
    const config = join(data, 'custos.yml');
    writeFileSync(config, `syscheck:\n  frequency: 1h\n  directories:\n    - path: ${tree}\n      realtime: yes\n      report_changes: yes\n`);
    agent = new CustosService(['agent', 'start', '--data', data, '--config', config, '--keepalive', '1s']);
    await scanDelivered(agent, 0);
    // The manager's keep-alive answer says it takes content; the agent sends it from then on.
    await agent.waitForLog((l) => l.msg === 'watching in realtime', 20_000);
  });

  after(async () => {
    await agent?.kill();
    await manager?.service.kill();
  });

  it('carries the diff to the manager in the alert, secrets redacted', async () => {
    writeFileSync(join(tree, 'app.conf'), 'listen 443\nworkers 4\n');
    await eventually(() => (fileAlerts(join(tree, 'app.conf')).length >= 1 ? true : undefined), 30_000, 'the first modification alert');
    writeFileSync(join(tree, 'app.conf'), `listen 443\nworkers 8\npassword = ${SECRET}\n`);
    const alert = await eventually(() => fileAlerts(join(tree, 'app.conf'))[1], 30_000, 'the second modification alert');
    assert.equal(alert.agent.id, agentId);
    assert.equal(alert.syscheck.diff, '@@ -1,2 +1,3 @@\n listen 443\n-workers 4\n+workers 8\n+[redacted: 1 line]');
    assert.match(readFileSync(join(harness.managerData, 'alerts.log'), 'utf8'), /What changed:\n@@ -1,2 \+1,3 @@\n listen 443\n-workers 4\n/);
  });

  it('applies the built-in nodiff list on the manager too', async () => {
    writeFileSync(join(tree, 'shadow.key'), 'k2\n');
    const alert = await eventually(() => fileAlerts(join(tree, 'shadow.key'))[0], 30_000, 'the key file alert');
    assert.match(String(alert.syscheck.diff), /^diff not stored: nodiff/);
  });

  it('keeps the content on the manager only: nothing of it on the agent, no secret anywhere', async () => {
    const managerFiles = Buffer.concat(readdirSync(harness.managerData).filter((n) => n !== 'shared').flatMap((n) => {
      try {
        return [readFileSync(join(harness.managerData, n))];
      } catch {
        return [];
      }
    }));
    assert.equal(managerFiles.includes(SECRET), false);
    assert.ok(readdirSync(harness.managerData).includes('custos-content.db'));
    // The agent's state: its cache and meta, and an outbox emptied by the acknowledgements.
    const db = new Database(join(data, 'agent.db'), { readonly: true, fileMustExist: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).sort();
      assert.deepEqual(tables, ['cache', 'meta', 'outbox']);
      await eventually(() => (Number(db.prepare('SELECT count(*) FROM outbox').pluck().get()) === 0 ? true : undefined), 20_000, 'an empty outbox');
    } finally {
      db.close();
    }
  });
});
