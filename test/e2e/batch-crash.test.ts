import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadAgentIdentity } from '../../src/agent/enroll-agent.js';
import { callManager, ManagerUnreachable, type ManagerEndpoint } from '../../src/agent/manager-client.js';
import type { AnyAlert } from '../../src/core/build-alert.js';
import { CHECK_ALL } from '../../src/core/check-set.js';
import { encodeObservation, type BatchRequest } from '../../src/protocol/wire.js';
import { eventually } from '../support/custos-service.js';
import { fileState } from '../support/file-states.js';
import { FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Every alert a batch causes commits in the batch's own transaction, proved with a real manager process killed
 * (SIGKILL, through the test-only `CUSTOS_TEST_FAULT` hook) the moment a batch has committed, before it could
 * write an alert out or reply: after a restart nothing is lost, nothing is raised twice, and the resync the lost
 * reply carried is asked for again when the agent sends the batch once more.
 */

const fleet = new FleetHarness(tempDir('custos-batch-crash-'));
const managers: ManagerHandle[] = [];

async function startManager(fault?: string): Promise<ManagerHandle> {
  const manager = await fleet.startManager(0, fault === undefined ? {} : { fault });
  managers.push(manager);
  return manager;
}

/** The agent's batches as they reach the manager, straight over its mutual-TLS channel. */
function postBatch(endpoint: ManagerEndpoint, manager: ManagerHandle, batch: BatchRequest): ReturnType<typeof callManager> {
  return callManager({ ...endpoint, url: manager.url }, 'POST', '/v1/batches', batch);
}

function agentEvents(agentId: string): string[] {
  return fleet
    .alerts()
    .filter((a: AnyAlert) => a.agent.id === agentId && 'custos' in a && a.custos !== undefined && 'agent_event' in a.custos)
    .map((a) => String((a.custos as { agent_event: string }).agent_event));
}

describe('alerts commit with their batch: a crash right after the commit loses none and repeats none', { timeout: 300_000 }, () => {
  after(async () => {
    for (const manager of managers) await manager.service.kill();
  });

  it('a manager killed right after committing an out-of-sync batch with an overflow notice: both alerts are delivered once after the restart, and the replayed batch is asked to resync', async () => {
    let manager = await startManager('exit-after-batch-commit');
    const data = join(fleet.dir, 'agent');
    mkdirSync(data, { recursive: true });
    const enrolled = await fleet.enroll(manager, 'crash-host', data, ['--name', 'crash-host']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const agentId = enrolled.id as string;
    const { endpoint } = loadAgentIdentity(data);

    // The agent's state digest says it holds 3 entries; the manager's baseline for it is empty: out of sync.
    const first: BatchRequest = {
      agentId,
      seq: 1,
      notice: 'outbox-overflow',
      scan: { id: 'scan-1', full: false, first: true },
      observations: [],
      end: { id: 'scan-1', full: false, digest: 'a'.repeat(64), entries: 3, durationMs: 10 },
    };
    await assert.rejects(postBatch(endpoint, manager, first), ManagerUnreachable, 'the manager dies before it replies');
    await eventually(() => (manager.service.running ? undefined : true), 20_000, 'the manager to die');
    assert.deepEqual(agentEvents(agentId), [], 'it died before writing any alert out');

    // Restarted without the fault: the committed alerts are delivered at start, once.
    manager = await startManager();
    assert.deepEqual(agentEvents(agentId).sort(), ['out-of-sync', 'outbox-overflow']);
    const replay = await postBatch(endpoint, manager, first);
    assert.equal(replay.status, 409);
    assert.deepEqual(
      replay.body,
      { ack: 1, duplicate: true, resync: true, error: 'batch 1 was already applied' },
      'the resync request the crash lost is made again',
    );
    assert.deepEqual(agentEvents(agentId).sort(), ['out-of-sync', 'outbox-overflow'], 'the replay raised nothing');

    // A batch whose reply is lost without a crash, sent again: one overflow alert, not two.
    const second: BatchRequest = { agentId, seq: 2, notice: 'outbox-overflow', observations: [] };
    const applied = await postBatch(endpoint, manager, second);
    assert.equal(applied.status, 200, applied.text);
    const again = await postBatch(endpoint, manager, second);
    assert.equal(again.status, 409);
    assert.equal((again.body as { duplicate?: boolean }).duplicate, true);
    assert.equal((again.body as { resync?: boolean }).resync, undefined, 'a batch that ends no scan asks for no resync');
    await eventually(() => (agentEvents(agentId).length === 3 ? true : undefined), 10_000, 'the second overflow alert');
    assert.deepEqual(agentEvents(agentId).sort(), ['out-of-sync', 'outbox-overflow', 'outbox-overflow']);
  });

  it('a manager killed right after committing the batch that ends a scan keeps the scan state with it: the directory counts as scanned, so the next change in it alerts', async () => {
    let manager = await startManager('exit-after-batch-commit');
    const data = join(fleet.dir, 'agent-scan-state');
    mkdirSync(data, { recursive: true });
    const enrolled = await fleet.enroll(manager, 'scan-state-host', data, ['--name', 'scan-state-host']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const agentId = enrolled.id as string;
    const { endpoint } = loadAgentIdentity(data);
    const path = Buffer.from('/etc/motd');
    const roots = [Buffer.from('/etc').toString('base64')];
    const observe = (size: number) => encodeObservation({ path, current: fileState({ path, size }), checks: CHECK_ALL, inBaseline: false });

    // The agent's first (full) scan of /etc in one batch: the manager builds its baseline, commits, and dies there.
    const scan: BatchRequest = {
      agentId,
      seq: 1,
      scan: { id: 'scan-1', full: true, first: true },
      observations: [observe(100)],
      end: { id: 'scan-1', full: true, digest: 'a'.repeat(64), entries: 1, durationMs: 10, roots },
    };
    await assert.rejects(postBatch(endpoint, manager, scan), ManagerUnreachable, 'the manager dies before it replies');
    await eventually(() => (manager.service.running ? undefined : true), 20_000, 'the manager to die');

    // Restarted: the next scan finds the file changed. Had /etc not been marked scanned with the commit, this scan
    // would count as its first and take the change silently into the baseline.
    manager = await startManager();
    const next: BatchRequest = {
      agentId,
      seq: 2,
      scan: { id: 'scan-2', full: false, first: true },
      observations: [observe(200)],
      end: { id: 'scan-2', full: false, digest: 'b'.repeat(64), entries: 1, durationMs: 10, roots },
    };
    const applied = await postBatch(endpoint, manager, next);
    assert.equal(applied.status, 200, applied.text);
    await eventually(() => (fleet.fileAlerts(agentId).length > 0 ? true : undefined), 10_000, 'the change to alert');
    assert.deepEqual(
      fleet.fileAlerts(agentId).map((a) => [a.rule, a.event, a.path]),
      [[550, 'modified', '/etc/motd']],
    );
  });
});
