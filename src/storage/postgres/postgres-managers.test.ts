import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILTIN_RULES } from '../../core/builtin-rules.js';
import { CHECK_ALL } from '../../core/check-set.js';
import type { EventRecord } from '../../core/event-record.js';
import { diffFileStates } from '../../core/file-change.js';
import { subtreeKeyRange } from '../../core/path-bytes.js';
import { fileState } from '../../../test/support/file-states.js';
import { dropSchemas, rawSql, schemaUrl, testSchemaName } from '../../../test/support/postgres-test-url.js';
import { SequenceError, type ChangeBatch } from '../store.js';
import { PostgresStore } from './postgres-store.js';

const schemas: string[] = [];
after(() => dropSchemas(schemas));

function freshUrl(): string {
  const schema = testSchemaName('custos_m');
  schemas.push(schema);
  return schemaUrl(schema);
}

function alerted(path: string, alertId: string): EventRecord {
  const p = Buffer.from(path);
  const change = diffFileStates(fileState({ path: p }), fileState({ path: p, size: 7 }), CHECK_ALL);
  assert.ok(change !== undefined);
  return {
    agentId: '001',
    timestamp: '2026-11-27T10:00:00.000Z',
    change,
    verdict: { verdict: 'unknown' },
    rule: BUILTIN_RULES.modified,
    outcome: 'alerted',
    alertId,
  };
}

describe('PostgresStore: several managers on one database', () => {
  it('applies a batch exactly once when two managers commit it at the same moment; the other gets the sequence refusal', async () => {
    const url = freshUrl();
    const [a, b] = [await PostgresStore.open(url), await PostgresStore.open(url)];
    for (let seq = 1; seq <= 25; seq++) {
      const batch: ChangeBatch = {
        agentId: '001',
        upserts: [fileState({ path: Buffer.from(`/etc/f${seq}`) })],
        deletes: [],
        events: [alerted(`/etc/f${seq}`, `x${seq}`)],
        sequence: seq,
      };
      const results = await Promise.allSettled([a.commit(batch), b.commit(batch)]);
      const applied = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(applied.length, 1, `batch ${seq}: applied once`);
      assert.equal(refused.length, 1);
      assert.ok(refused[0]?.reason instanceof SequenceError, `batch ${seq}: ${String(refused[0]?.reason)}`);
      assert.equal(refused[0].reason.expected, seq + 1);
    }
    const events = [];
    for await (const e of a.queryEvents({ agentId: '001' })) events.push(e);
    assert.equal(events.length, 25, 'one history record per batch');
    assert.deepEqual(await b.verifyChain(), { ok: true, checked: 25 });
    assert.equal(await a.lastSequence('001'), 25);
    await Promise.all([a.close(), b.close()]);
  });

  it("keeps one agent's chain whole when managers append for it concurrently without sequences", async () => {
    const url = freshUrl();
    const stores = [await PostgresStore.open(url), await PostgresStore.open(url), await PostgresStore.open(url)];
    await Promise.all(
      stores.flatMap((store, s) =>
        Array.from({ length: 10 }, (_, i) => store.commit({ agentId: '001', upserts: [], deletes: [], events: [alerted(`/srv/${s}/${i}`, `c${s}-${i}`)] })),
      ),
    );
    assert.deepEqual(await stores[0]?.verifyChain(), { ok: true, checked: 30 });
    await Promise.all(stores.map((s) => s.close()));
  });

  it("leaves a live manager's alerts to it, and hands a dead one's to exactly one other manager", async () => {
    const url = freshUrl();
    const live = await PostgresStore.open(url);
    const other = await PostgresStore.open(url);
    await live.upsertAgent({ id: '001', name: 'h' });
    await live.commit({ agentId: '001', upserts: [], deletes: [], events: [alerted('/etc/a', 'l1'), alerted('/etc/b', 'l2')] });
    assert.deepEqual(await other.undeliveredAlerts(100), [], 'claimed by the manager that committed them');
    assert.deepEqual(
      (await live.undeliveredAlerts(100)).map((a) => a.id),
      ['l1', 'l2'],
    );
    await live.markAlertsDelivered(['l1', 'l2']);

    // A manager that dies with 300 undelivered alerts; its claims run out; two managers drain the queue at once.
    const dying = await PostgresStore.open(url, { alertLeaseMs: 1 });
    for (let i = 0; i < 300; i += 50) {
      await dying.commit({ agentId: '001', upserts: [], deletes: [], events: Array.from({ length: 50 }, (_, j) => alerted(`/etc/d${i + j}`, `d${i + j}`)) });
    }
    await dying.close();
    await sleep(20);
    const third = await PostgresStore.open(url);
    const delivered: string[][] = [[], []];
    const drain = async (store: PostgresStore, out: string[]): Promise<void> => {
      for (let page = await store.undeliveredAlerts(20); page.length > 0; page = await store.undeliveredAlerts(20)) {
        out.push(...page.map((a) => a.id));
        await store.markAlertsDelivered(page.map((a) => a.id));
      }
    };
    await Promise.all([drain(other, delivered[0] ?? []), drain(third, delivered[1] ?? [])]);
    const all = [...(delivered[0] ?? []), ...(delivered[1] ?? [])];
    assert.equal(all.length, 300, 'every alert delivered once');
    assert.equal(new Set(all).size, 300, 'no alert delivered twice');
    await Promise.all([live.close(), other.close(), third.close()]);
  });

  it("sweeps up only a dead manager's alerts whose lease ran out, never its own nor a live one's", async () => {
    const url = freshUrl();
    const sweeper = await PostgresStore.open(url, { alertLeaseMs: 1 });
    const live = await PostgresStore.open(url);
    const dying = await PostgresStore.open(url, { alertLeaseMs: 1 });
    await live.upsertAgent({ id: '001', name: 'h' });
    await live.commit({ agentId: '001', upserts: [], deletes: [], events: [alerted('/etc/live', 'live-1')] });
    await sweeper.commit({ agentId: '001', upserts: [], deletes: [], events: [alerted('/etc/own', 'own-1')] });
    await dying.commit({ agentId: '001', upserts: [], deletes: [], events: [alerted('/etc/o1', 'o1'), alerted('/etc/o2', 'o2')] });
    await dying.close();
    await sleep(20);
    const swept = await sweeper.orphanedAlerts(100);
    assert.deepEqual(
      swept.map((a) => a.id),
      ['o1', 'o2'],
      "the dead one's, oldest first; not its own (own-1, lease run out too) nor the live one's",
    );
    await sleep(20);
    assert.deepEqual(await sweeper.orphanedAlerts(100), [], 'its own (own-1, o1, o2), even past their lease, are never its orphans');
    await sweeper.markAlertsDelivered(['o1', 'o2']);
    assert.deepEqual(
      (await sweeper.undeliveredAlerts(100)).map((a) => a.id),
      ['own-1'],
    );
    await Promise.all([sweeper.close(), live.close()]);
  });

  it("runs periodic work on exactly one manager, and moves it when that manager's connection dies", async () => {
    const url = freshUrl();
    const [a, b] = [await PostgresStore.open(url), await PostgresStore.open(url)];
    const [la, lb] = [a.leadership('silence'), b.leadership('silence')];
    assert.equal(await la.isLeader(), true);
    assert.equal(await lb.isLeader(), false);
    assert.equal(await la.isLeader(), true, 'it keeps leading');
    // The leader's process is killed: the server sees its session end (here: ended from outside, as a crash would).
    const key = `custos.lead.${a.database.schema}.silence`;
    await rawSql(
      a.database.schema,
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('${key}', 0)`,
    );
    await sleep(100);
    assert.equal(await lb.isLeader(), true, 'the other one takes over');
    assert.equal(await la.isLeader(), false, 'the old leader, its session gone, no longer leads');
    await Promise.all([a.close(), b.close()]);
  });

  it('reads fingerprints from one snapshot while the scan commits its own changes', async () => {
    const store = await PostgresStore.open(freshUrl());
    const upserts = Array.from({ length: 1300 }, (_, i) => fileState({ path: Buffer.from(`/usr/lib/${String(i).padStart(5, '0')}`) }));
    await store.commit({ agentId: '001', upserts, deletes: [], events: [] });
    let seen = 0;
    let committed = false;
    for await (const chunk of store.readFingerprints('001', [subtreeKeyRange(Buffer.from('/usr'))])) {
      seen += chunk.length;
      if (!committed) {
        committed = true;
        await store.commit({ agentId: '001', upserts: [], deletes: upserts.slice(1000).map((s) => s.path), events: [] });
      }
    }
    assert.equal(seen, 1300, 'the deletes committed half-way do not show in the read');
    assert.equal(await store.countBaseline('001'), 1000);
    await store.close();
  });
});
