import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AnyAlert } from '../../src/core/build-alert.js';
import { eventually, type CustosService } from '../support/custos-service.js';
import { FleetHarness, scanDelivered } from '../support/fleet-harness.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The packaged logrotate rules rename alerts.json and alerts.log and send the running manager SIGHUP. A real
 * manager and agent: alerts written before the signal stay in the renamed files, alerts after it go to new files
 * by the old names, and no alert is lost or written twice.
 */
describe('a running fleet operated as a service: log rotation (rename + SIGHUP) and status', () => {
  const fleet = new FleetHarness(tempDir('custos-logrotate-'));
  const watched = join(fleet.dir, 'watched');
  mkdirSync(watched);
  const services: CustosService[] = [];
  after(async () => {
    await Promise.all(services.map((s) => s.kill()));
  });

  const alertsIn = (file: string): AnyAlert[] => (existsSync(file) ? jsonLines<AnyAlert>(readFileSync(file, 'utf8')) : []);
  const pathsIn = (file: string): string[] => alertsIn(file).flatMap((a) => ('syscheck' in a ? [a.syscheck.path] : []));

  it('moves on to new files without losing or repeating a line', async () => {
    const manager = await fleet.startManager();
    services.push(manager.service);
    const data = join(fleet.dir, 'agent');
    const enrolled = await fleet.enroll(manager, 'host-1', data, ['--name', 'host-1']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const agent = fleet.startAgent(data, [watched]);
    services.push(agent);
    await scanDelivered(agent, 0);

    const before = join(watched, 'before-rotation');
    writeFileSync(before, 'one\n');
    const json = join(fleet.managerData, 'alerts.json');
    const log = join(fleet.managerData, 'alerts.log');
    // Both files: the sinks write one after the other, so alerts.json can hold the alert before alerts.log exists.
    const inBoth = (): true | undefined =>
      pathsIn(json).includes(before) && existsSync(log) && readFileSync(log, 'utf8').includes('before-rotation') ? true : undefined;
    await eventually(inBoth, 30_000, 'the alert for the first file in alerts.json and alerts.log');

    renameSync(json, `${json}.1`);
    renameSync(log, `${log}.1`);
    // Between the rename and the signal the manager still writes to the renamed file: nothing is lost there either.
    const from = manager.service.lines.length;
    manager.service.signal('SIGHUP');
    await manager.service.waitForMessage('alert files reopened', 10_000, from);

    const afterRotation = join(watched, 'after-rotation');
    writeFileSync(afterRotation, 'two\n');
    await eventually(
      () => (pathsIn(json).includes(afterRotation) && existsSync(log) && readFileSync(log, 'utf8').includes('after-rotation') ? true : undefined),
      30_000,
      'the alert for the second file in a new alerts.json and alerts.log',
    );

    assert.deepEqual(pathsIn(`${json}.1`), [before]);
    assert.deepEqual(pathsIn(json), [afterRotation]);
    const ids = [...alertsIn(`${json}.1`), ...alertsIn(json)].map((a) => a.id);
    assert.equal(new Set(ids).size, ids.length, 'an alert was written twice');
    assert.match(readFileSync(`${log}.1`, 'utf8'), /before-rotation/);
    assert.doesNotMatch(readFileSync(`${log}.1`, 'utf8'), /after-rotation/);
    assert.match(readFileSync(log, 'utf8'), /after-rotation/);
    assert.doesNotMatch(readFileSync(log, 'utf8'), /before-rotation/);
    assert.ok(manager.service.running, 'SIGHUP stopped the manager');

    // `custos status --data` on the agent's directory: its manager link and an empty outbox once delivered.
    const status = await runCustos(['status', '--data', data, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const agentStatus = JSON.parse(status.stdout) as { mode: string; agentId: string; managerUrl: string; outboxDepth: number; lastScanEnd?: string };
    assert.equal(agentStatus.mode, 'agent');
    assert.equal(agentStatus.agentId, enrolled.id);
    assert.equal(agentStatus.managerUrl, manager.url);
    assert.equal(agentStatus.outboxDepth, 0);
    assert.ok(agentStatus.lastScanEnd !== undefined, 'no last scan in the agent status');
    const managerStatus = await runCustos(['status', '--data', fleet.managerData, '--json']);
    assert.equal(managerStatus.code, 0, managerStatus.stderr);
    assert.equal((JSON.parse(managerStatus.stdout) as { agents: number }).agents >= 1, true);
  });
});
