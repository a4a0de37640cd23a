import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadAgentIdentity } from '../../src/agent/enroll-agent.js';
import { callManager, ManagerUnreachable, type ManagerEndpoint } from '../../src/agent/manager-client.js';
import { CHECK_ALL } from '../../src/core/check-set.js';
import { encodeObservation, type BatchRequest } from '../../src/protocol/wire.js';
import { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { eventually } from '../support/custos-service.js';
import { fileState } from '../support/file-states.js';
import { FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Group commit keeps exactly-once per (agent, sequence) across a crash: a real manager process is killed (SIGKILL,
 * through the test-only `CUSTOS_TEST_FAULT` hook) the moment a COMMIT holding several agents' batches has
 * written, before any of them is answered. After a restart, each agent sends its unanswered batch again: the ones
 * in that group are refused as replays, the others applied; every change is in the history once and alerted once,
 * and the chain holds.
 */

const AGENTS = 6;
const fleet = new FleetHarness(tempDir('custos-group-crash-'));
const managers: ManagerHandle[] = [];

async function startManager(fault?: string): Promise<ManagerHandle> {
  const manager = await fleet.startManager(0, fault === undefined ? {} : { fault });
  managers.push(manager);
  return manager;
}

const PATH = Buffer.from('/etc/motd');
const ROOTS = [Buffer.from('/etc').toString('base64')];

/** Batch `seq` of an agent: its first one is its first full scan of /etc; each after it changes /etc/motd's size. */
function batchOf(agentId: string, seq: number): BatchRequest {
  const observations = [encodeObservation({ path: PATH, current: fileState({ path: PATH, size: seq * 10 }), checks: CHECK_ALL, inBaseline: seq > 1 })];
  if (seq > 1) return { agentId, seq, observations };
  return {
    agentId,
    seq,
    scan: { id: 'scan-1', full: true, first: true },
    observations,
    end: { id: 'scan-1', full: true, digest: 'a'.repeat(64), entries: 1, durationMs: 10, roots: ROOTS },
  };
}

describe('group commit: a manager killed right after a group COMMIT, before any reply', { timeout: 300_000 }, () => {
  after(async () => {
    for (const manager of managers) await manager.service.kill();
  });

  it('applies every batch exactly once: the group is refused as replays after the restart, the rest applied', async () => {
    let manager = await startManager();
    const agents: { id: string; endpoint: ManagerEndpoint }[] = [];
    for (let a = 0; a < AGENTS; a++) {
      const data = join(fleet.dir, `agent-${a}`);
      mkdirSync(data, { recursive: true });
      const enrolled = await fleet.enroll(manager, `group-host-${a}`, data, ['--name', `group-host-${a}`]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
      agents.push({ id: enrolled.id as string, endpoint: loadAgentIdentity(data).endpoint });
    }
    const post = (m: ManagerHandle, agent: { id: string; endpoint: ManagerEndpoint }, seq: number) =>
      callManager({ ...agent.endpoint, url: m.url }, 'POST', '/v1/batches', batchOf(agent.id, seq));
    // Each agent's first scan, one at a time (no group yet), so its later changes alert.
    for (const agent of agents) assert.equal((await post(manager, agent, 1)).status, 200);
    await manager.service.kill();

    // Rounds of every agent's next batch at once, until batches arriving together share a COMMIT and it dies there.
    manager = await startManager('exit-after-group-commit');
    const acknowledged = new Map<string, number>(agents.map((a) => [a.id, 1]));
    let crashSeq = 0;
    for (let seq = 2; seq <= 40 && crashSeq === 0; seq++) {
      const replies = await Promise.allSettled(agents.map((agent) => post(manager, agent, seq)));
      replies.forEach((reply, i) => {
        const agent = agents[i] as { id: string };
        if (reply.status === 'fulfilled') {
          assert.equal(reply.value.status, 200, reply.value.text);
          acknowledged.set(agent.id, seq);
        } else {
          assert.ok(reply.reason instanceof ManagerUnreachable, String(reply.reason));
          crashSeq = seq;
        }
      });
    }
    assert.ok(crashSeq > 0, 'batches arriving together were committed in one group (the manager died there)');
    await eventually(() => (manager.service.running ? undefined : true), 20_000, 'the manager to die');

    // Restarted without the fault: each agent sends again what was not acknowledged, as its outbox would.
    manager = await startManager();
    const outcomes: string[] = [];
    for (const agent of agents) {
      const next = (acknowledged.get(agent.id) ?? 0) + 1;
      if (next > crashSeq) continue;
      const reply = await post(manager, agent, next);
      if (reply.status === 200) outcomes.push('applied');
      else {
        assert.equal(reply.status, 409, reply.text);
        assert.deepEqual(reply.body, { ack: next, duplicate: true, error: `batch ${next} was already applied` });
        outcomes.push('replay');
      }
    }
    assert.ok(outcomes.filter((o) => o === 'replay').length >= 2, `the group that committed held several batches (${outcomes.join(', ')})`);

    // Every change alerted once: one alert per batch after the first scan, for every agent.
    const expected = (crashSeq - 1) * AGENTS;
    await eventually(
      () => (agents.reduce((n, a) => n + fleet.fileAlerts(a.id).length, 0) >= expected ? true : undefined),
      20_000,
      'every change to be alerted',
    );
    for (const agent of agents) {
      assert.deepEqual(
        fleet.fileAlerts(agent.id).map((a) => [a.rule, a.event, a.path]),
        Array.from({ length: crashSeq - 1 }, () => [550, 'modified', '/etc/motd']),
        `agent ${agent.id}: one alert per batch`,
      );
    }
    await manager.service.kill();

    // And in the store: each batch once in the history, the sequence at the last batch, the chain intact.
    const store = SqliteStore.open(join(fleet.managerData, 'custos.db'));
    try {
      for (const agent of agents) {
        assert.equal(await store.lastSequence(agent.id), crashSeq);
        let records = 0;
        for await (const event of store.queryEvents({ agentId: agent.id })) if (event.record.change.kind === 'modified') records++;
        assert.equal(records, crashSeq - 1, `agent ${agent.id}: one history record per change`);
      }
      assert.equal((await store.verifyChain()).ok, true);
    } finally {
      await store.close();
    }
  });
});
