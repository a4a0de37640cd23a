import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BUILTIN_RULES } from '../../src/core/builtin-rules.js';
import { CHECK_ALL } from '../../src/core/check-set.js';
import type { EventRecord } from '../../src/core/event-record.js';
import { diffFileStates } from '../../src/core/file-change.js';
import type { Store, StoredEvent } from '../../src/storage/store.js';
import { fileState } from './file-states.js';
import type { StoreFactory } from './store-contract.js';

/** A modification of `path` by `agentId` at `timestamp`, alerted as `alertId` when given. */
function change(agentId: string, path: string, timestamp: string, alertId?: string): EventRecord {
  const p = Buffer.from(path);
  const diff = diffFileStates(fileState({ path: p }), fileState({ path: p, size: 1000 + path.length }), CHECK_ALL);
  assert.ok(diff !== undefined);
  return {
    agentId,
    timestamp,
    change: diff,
    verdict: { verdict: 'unknown' },
    rule: BUILTIN_RULES.modified,
    outcome: 'alerted',
    ...(alertId === undefined ? {} : { alertId }),
  };
}

async function history(store: Store, agentId: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of store.queryEvents({ agentId })) out.push(e);
  return out;
}

const MARCH = '2026-03-01T00:00:00.000Z';

/**
 * History retention, written once and run against every engine: both drop the same records (whole months before
 * the boundary, a prefix of each chain), keep the same anchors, and `verifyChain` reports the same starts.
 */
export function describeHistoryRetentionContract(engine: string, factory: StoreFactory): void {
  describe(`History retention contract: ${engine}`, () => {
    it('drops the months before the boundary, keeps each chain anchored, and verify proves what is kept and says where it starts', async () => {
      const store = await factory.open();
      await store.commit({
        agentId: '001',
        upserts: [],
        deletes: [],
        events: [
          change('001', '/etc/a', '2026-01-05T10:00:00.000Z', 'jan-1'),
          change('001', '/etc/b', '2026-01-20T10:00:00.000Z'),
          change('001', '/etc/c', '2026-01-31T23:59:59.999Z'),
        ],
      });
      await store.commit({ agentId: '002', upserts: [], deletes: [], events: [change('002', '/srv/x', '2026-01-10T00:00:00.000Z')] });
      await store.commit({
        agentId: '001',
        upserts: [],
        deletes: [],
        events: [change('001', '/etc/d', '2026-02-01T00:00:00.000Z'), change('001', '/etc/e', '2026-02-28T23:59:59.999Z')],
      });
      await store.commit({
        agentId: '001',
        upserts: [],
        deletes: [],
        events: [change('001', '/etc/f', '2026-03-01T00:00:00.000Z', 'mar-1'), change('001', '/etc/g', '2026-03-02T00:00:00.000Z')],
      });
      await store.commit({ agentId: '002', upserts: [], deletes: [], events: [change('002', '/srv/y', '2026-03-15T00:00:00.000Z')] });
      await store.markAlertsDelivered(['jan-1', 'mar-1']);
      const before001 = await history(store, '001');
      const before002 = await history(store, '002');
      const usageBefore = await store.agentUsage('001');

      const outcome = await store.dropHistoryBefore(MARCH);
      assert.deepEqual(outcome, { droppedRecords: 6, agents: ['001', '002'] });
      assert.deepEqual(
        (await history(store, '001')).map((e) => e.record.change.path.toString()),
        ['/etc/f', '/etc/g'],
        'only March is kept',
      );
      assert.deepEqual(
        (await history(store, '002')).map((e) => e.record.change.path.toString()),
        ['/srv/y'],
      );
      const lastDropped = before001[4];
      const firstKept = before001[5];
      assert.ok(lastDropped !== undefined && firstKept !== undefined);
      const anchor001 = {
        agentId: '001',
        droppedRecords: 5,
        lastDroppedId: lastDropped.id,
        lastDroppedAt: '2026-02-28T23:59:59.999Z',
        lastDroppedHash: lastDropped.hash,
      };
      const anchor002 = {
        agentId: '002',
        droppedRecords: 1,
        lastDroppedId: before002[0]?.id ?? -1,
        lastDroppedAt: '2026-01-10T00:00:00.000Z',
        lastDroppedHash: before002[0]?.hash ?? '',
      };
      assert.deepEqual(await store.chainAnchors(), [anchor001, anchor002]);

      const report = await store.verifyChain();
      assert.deepEqual(report, {
        ok: true,
        checked: 3,
        starts: [
          { ...anchor001, firstKept: { id: firstKept.id, at: '2026-03-01T00:00:00.000Z' } },
          { ...anchor002, firstKept: { id: before002[1]?.id ?? -1, at: '2026-03-15T00:00:00.000Z' } },
        ],
      });
      assert.deepEqual(
        (await store.verifyChain('002')).starts?.map((s) => s.agentId),
        ['002'],
      );
      const usage = await store.agentUsage('001');
      assert.equal(usage.historyRecords, usageBefore.historyRecords - 5, 'the quota no longer counts what was dropped');
      const alerts: string[] = [];
      for await (const a of store.queryAlerts({})) alerts.push(a.id);
      assert.deepEqual(alerts, ['mar-1'], 'an alert goes with its record');
      assert.equal((await store.chainHead('001'))?.length, 7, 'the head still counts the whole chain');

      // The chain goes on from what is kept; a second pass over the same boundary drops nothing.
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [change('001', '/etc/h', '2026-04-01T08:00:00.000Z')] });
      assert.deepEqual(await store.dropHistoryBefore(MARCH), { droppedRecords: 0, agents: [] });
      const again = await store.verifyChain();
      assert.equal(again.ok, true);
      assert.equal(again.checked, 4);
      await store.close();
    });

    it('keeps a month whose alert still waits for its sinks, and drops it once delivered', async () => {
      const store = await factory.open();
      await store.commit({
        agentId: '001',
        upserts: [],
        deletes: [],
        events: [change('001', '/etc/a', '2026-01-05T10:00:00.000Z', 'waiting'), change('001', '/etc/b', '2026-01-06T10:00:00.000Z')],
      });
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [change('001', '/etc/c', '2026-03-05T10:00:00.000Z')] });
      const held = await store.dropHistoryBefore(MARCH);
      assert.equal(held.droppedRecords, 0);
      assert.match(held.heldBack ?? '', /waiting.*still waits for its sinks/);
      assert.deepEqual(await store.verifyChain(), { ok: true, checked: 3 });
      await store.markAlertsDelivered(['waiting']);
      assert.deepEqual(await store.dropHistoryBefore(MARCH), { droppedRecords: 2, agents: ['001'] });
      assert.equal((await store.verifyChain()).checked, 1);
      await store.close();
    });

    it('verifies an agent whose every record was dropped (its head is its anchor), and catches an anchor edited afterwards', async () => {
      const store = await factory.open();
      await store.commit({
        agentId: '003',
        upserts: [],
        deletes: [],
        events: [change('003', '/opt/a', '2026-02-02T00:00:00.000Z'), change('003', '/opt/b', '2026-02-03T00:00:00.000Z')],
      });
      await store.commit({
        agentId: '004',
        upserts: [],
        deletes: [],
        events: [change('004', '/opt/z', '2026-01-02T00:00:00.000Z'), change('004', '/opt/y', '2026-03-03T00:00:00.000Z')],
      });
      assert.deepEqual(await store.dropHistoryBefore(MARCH), { droppedRecords: 3, agents: ['003', '004'] });
      const report = await store.verifyChain();
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.equal(report.checked, 1);
      const gone = report.starts?.find((s) => s.agentId === '003');
      assert.equal(gone?.droppedRecords, 2);
      assert.equal(gone?.firstKept, undefined, 'nothing of it is kept');
      await factory.tamper(store, "UPDATE history_anchors SET last_hash = 'f00d' WHERE agent_id = '004'");
      const broken = await store.verifyChain();
      assert.equal(broken.ok, false);
      assert.equal(broken.firstBroken?.agentId, '004');
      assert.match(broken.firstBroken?.reason ?? '', /does not chain from the last record retention dropped/);
      await factory.tamper(store, "DELETE FROM history_anchors WHERE agent_id = '003'");
      const emptied = await store.verifyChain('003');
      assert.equal(emptied.ok, false);
      assert.match(emptied.firstBroken?.reason ?? '', /history was emptied/);
      await store.close();
    });
  });
}
