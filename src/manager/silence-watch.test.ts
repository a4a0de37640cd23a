import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import type { AgentRef } from '../core/build-alert.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { silenceCheckEveryMs, watchSilence } from './silence-watch.js';

describe('watchSilence', () => {
  const dir = tempDir();
  let store: SqliteStore;
  const t0 = new Date('2026-11-30T00:00:00Z');
  const at = (ms: number): Date => new Date(t0.getTime() + ms);
  before(() => {
    store = SqliteStore.open(join(dir, 'manager.db'));
  });
  after(async () => store.close());

  it('raises "silent" once per agent past the threshold, skips revoked agents, and counts the gauges', async () => {
    const quiet = await store.registerAgent('quiet', t0.toISOString());
    const chatty = await store.registerAgent('chatty', t0.toISOString());
    const revoked = await store.registerAgent('revoked', t0.toISOString());
    await store.revokeAgent(revoked.id, t0.toISOString());
    await store.touchAgent(quiet.id, t0.toISOString());
    await store.touchAgent(chatty.id, at(50_000).toISOString());
    const raised: { agent: AgentRef; details: Record<string, unknown> }[] = [];
    const metrics = { agentsConnected: -1, agentsSilent: -1 };
    const raise = async (agent: AgentRef, _event: 'silent', details: Record<string, unknown>): Promise<void> => void raised.push({ agent, details });
    await watchSilence(store, 30_000, at(60_000), metrics, raise);
    assert.deepEqual(
      raised.map((r) => r.agent.name),
      ['quiet'],
    );
    assert.deepEqual(raised[0]?.details, { last_seen: t0.toISOString(), silent_after_s: 30 });
    assert.deepEqual(metrics, { agentsConnected: 1, agentsSilent: 1 });
    // Still silent a minute later: counted, not raised again.
    await watchSilence(store, 30_000, at(120_000), metrics, raise);
    assert.deepEqual(
      raised.map((r) => r.agent.name),
      ['quiet', 'chatty'],
    );
    assert.deepEqual(metrics, { agentsConnected: 0, agentsSilent: 2 });
    await watchSilence(store, 30_000, at(180_000), metrics, raise);
    assert.equal(raised.length, 2, 'each silence is raised once');
    // Heard from again: touchAgent reports the silence it ends, and it counts as connected.
    assert.equal(await store.touchAgent(quiet.id, at(181_000).toISOString()), at(60_000).toISOString());
    await watchSilence(store, 30_000, at(182_000), metrics, raise);
    assert.deepEqual(metrics, { agentsConnected: 1, agentsSilent: 1 });
  });

  it('checks a quarter as often as the threshold, between 250 ms and 30 s', () => {
    assert.equal(silenceCheckEveryMs(1000), 250);
    assert.equal(silenceCheckEveryMs(40_000), 10_000);
    assert.equal(silenceCheckEveryMs(3_600_000), 30_000);
  });
});
