import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildAgentAlert } from '../../src/core/agent-alerts.js';
import { buildAlert, type AnyAlert } from '../../src/core/build-alert.js';
import { BUILTIN_RULES } from '../../src/core/builtin-rules.js';
import { CHECK_ALL } from '../../src/core/check-set.js';
import type { EventRecord } from '../../src/core/event-record.js';
import { diffFileStates } from '../../src/core/file-change.js';
import { pathFromKey, subtreeKeyRange } from '../../src/core/path-bytes.js';
import { storedFingerprint } from '../../src/core/state-fingerprint.js';
import type { Store } from '../../src/storage/store.js';
import { fileState } from './file-states.js';

/** One engine under test: a fresh store, and raw SQL to play the attacker who edits the database directly. */
export interface StoreFactory {
  open(): Promise<Store>;
  tamper(store: Store, sql: string): Promise<void>;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function record(path: string, i: number, outcome: EventRecord['outcome'] = 'alerted'): EventRecord {
  const p = bytes(path);
  const change = diffFileStates(fileState({ path: p }), fileState({ path: p, size: 1000 + i }), CHECK_ALL);
  assert.ok(change !== undefined);
  return { agentId: '001', timestamp: `2026-11-27T10:00:0${i}.000Z`, change, verdict: { verdict: 'unknown' }, rule: BUILTIN_RULES.modified, outcome };
}

/** The store contract, written once and run against every engine. */
export function describeStoreContract(engine: string, factory: StoreFactory): void {
  describe(`Store contract: ${engine}`, () => {
    it('keeps baselines per agent and reads fingerprints of ranges in key (walk) order', async () => {
      const store = await factory.open();
      const paths = ['/etc/b', '/etc', '/etc/a/x', '/etc/a', '/etc-old', '/usr/bin/ls', '/etc/\xff\n'];
      await store.commit({ agentId: '001', upserts: paths.map((p) => fileState({ path: bytes(p) })), deletes: [], events: [] });
      const many = await store.getBaselineStates('001', [bytes('/etc/a'), bytes('/nope'), bytes('/usr/bin/ls')]);
      assert.deepEqual([...many.keys()].sort(), ['/etc/a', '/usr/bin/ls']);
      await store.commit({ agentId: '002', upserts: [fileState({ path: bytes('/etc/other') })], deletes: [], events: [] });
      const read: string[] = [];
      for await (const chunk of store.readFingerprints('001', [subtreeKeyRange(bytes('/etc')), subtreeKeyRange(bytes('/usr'))])) {
        for (const entry of chunk) {
          read.push(pathFromKey(entry.key).toString('latin1'));
          assert.equal(entry.fingerprint, storedFingerprint(fileState({ path: pathFromKey(entry.key) })));
        }
      }
      assert.deepEqual(read, ['/etc', '/etc/a', '/etc/a/x', '/etc/b', '/etc/\xff\n', '/usr/bin/ls']);
      assert.equal(await store.countBaseline('001'), 7);
      const got = await store.getBaselineState('001', bytes('/etc/\xff\n'));
      assert.deepEqual(got, fileState({ path: bytes('/etc/\xff\n') }), 'a state round-trips exactly, ns times included');
      await store.commit({ agentId: '001', upserts: [], deletes: [bytes('/etc/b')], events: [] });
      assert.equal(await store.getBaselineState('001', bytes('/etc/b')), undefined);
      await store.close();
    });

    it('chains the history and verifies it', async () => {
      const store = await factory.open();
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [record('/a', 1), record('/b', 2)] });
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [record('/c', 3)] });
      await store.commit({ agentId: '002', upserts: [], deletes: [], events: [{ ...record('/z', 4), agentId: '002' }] });
      const report = await store.verifyChain();
      assert.deepEqual(report, { ok: true, checked: 4 });
      const events = [];
      for await (const e of store.queryEvents({ agentId: '001' })) events.push(e);
      assert.deepEqual(events.map((e) => e.record.change.path.toString()), ['/a', '/b', '/c']);
      await store.close();
    });

    const tampering: [string, string, number, RegExp][] = [
      ['an edited record', "UPDATE events SET data = replace(data, '\"alerted\"', '\"recorded\"') WHERE id = 2", 2, /edited|disagrees/],
      ['a removed record', 'DELETE FROM events WHERE id = 2', 3, /link/],
      ['a removed last record', 'DELETE FROM events WHERE id = 3', 2, /ends before/],
      ['an edited index column', "UPDATE events SET outcome = 'recorded' WHERE id = 1", 1, /outcome column/],
      ['a whole history rewritten from scratch but for its head', 'DELETE FROM events', 0, /emptied/],
    ];
    for (const [what, sql, brokenAt, reason] of tampering) {
      it(`finds ${what}`, async () => {
        const store = await factory.open();
        await store.commit({ agentId: '001', upserts: [], deletes: [], events: [record('/a', 1), record('/b', 2), record('/c', 3)] });
        await factory.tamper(store, sql);
        const report = await store.verifyChain();
        assert.equal(report.ok, false);
        assert.equal(report.firstBroken?.eventId, brokenAt);
        assert.match(report.firstBroken?.reason ?? '', reason);
        await store.close();
      });
    }

    it('filters history and alerts by time, path and limit', async () => {
      const store = await factory.open();
      const events = [record('/etc/a', 1), record('/etc/b', 2), record('/usr/c', 3)].map((e, i) => ({ ...e, alertId: `a${i}` }));
      await store.upsertAgent({ id: '001', name: 'h' });
      await store.commit({ agentId: '001', upserts: [], deletes: [], events });
      const paths = async (q: Parameters<Store['queryEvents']>[0]): Promise<string[]> => {
        const out: string[] = [];
        for await (const e of store.queryEvents(q)) out.push(e.record.change.path.toString());
        return out;
      };
      assert.deepEqual(await paths({ path: bytes('/etc') }), ['/etc/a', '/etc/b']);
      assert.deepEqual(await paths({ since: '2026-11-27T10:00:02.000Z' }), ['/etc/b', '/usr/c']);
      assert.deepEqual(await paths({ limit: 2 }), ['/etc/b', '/usr/c']);
      const found = [];
      for await (const a of store.queryAlerts({ path: bytes('/usr'), agentId: '001' })) found.push(a);
      assert.deepEqual(found.map((a) => a.id), ['a2']);
      const expected = buildAlert({ id: 'a2', timestamp: new Date(events[2]?.timestamp ?? ''), agent: { id: '001', name: 'h' }, rule: BUILTIN_RULES.modified, change: events[2]!.change, verdict: events[2]!.verdict });
      assert.deepEqual(found[0], expected, 'an alert is rebuilt exactly from its history record');
      const limited: string[] = [];
      for await (const a of store.queryAlerts({ limit: 2 })) limited.push(a.id);
      assert.deepEqual(limited, ['a1', 'a2']);
      await store.close();
    });

    it('keeps every committed alert on the delivery queue, in order, until it is marked delivered', async () => {
      const store = await factory.open();
      await store.upsertAgent({ id: '001', name: 'h' });
      assert.deepEqual(await store.undeliveredAlerts(100), []);
      const events = [record('/etc/a', 1), record('/etc/b', 2, 'recorded'), record('/etc/c', 3)];
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [{ ...events[0]!, alertId: 'f1' }, events[1]!, { ...events[2]!, alertId: 'f2' }] });
      const agentAlert = buildAgentAlert({ id: 'g1', timestamp: new Date('2026-11-27T10:00:04.000Z'), agent: { id: '001', name: 'h' }, event: 'silent', details: { last_seen: '2026-11-27T09:00:00.000Z' } });
      await store.recordAgentAlert(agentAlert);
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [{ ...record('/etc/d', 5), alertId: 'f3' }] });
      const queued = await store.undeliveredAlerts(100);
      assert.deepEqual(queued.map((a) => a.id), ['f1', 'f2', 'g1', 'f3'], 'alerts only, in the order they were committed');
      assert.deepEqual((await store.undeliveredAlerts(2)).map((a) => a.id), ['f1', 'f2'], 'the oldest first');
      const all: AnyAlert[] = [];
      for await (const a of store.queryAlerts({})) all.push(a);
      assert.deepEqual(queued, ['f1', 'f2', 'g1', 'f3'].map((id) => all.find((a) => a.id === id)), 'the same alerts the history rebuilds');
      await store.markAlertsDelivered(['f1', 'g1']);
      assert.deepEqual((await store.undeliveredAlerts(100)).map((a) => a.id), ['f2', 'f3']);
      await store.markAlertsDelivered(['f2', 'f3', 'unknown']);
      assert.deepEqual(await store.undeliveredAlerts(100), []);
      await store.close();
    });

    it('records scanned roots and per-agent settings', async () => {
      const store = await factory.open();
      await store.markRootsScanned('001', [bytes('/etc'), bytes('/usr/bin')], '2026-11-27T10:00:00Z');
      await store.markRootsScanned('001', [bytes('/etc')], '2026-11-28T10:00:00Z');
      assert.deepEqual((await store.scannedRoots('001')).map(String).sort(), ['/etc', '/usr/bin']);
      assert.deepEqual(await store.scannedRoots('002'), []);
      await store.setMeta('001', 'k', 'v1');
      await store.setMeta('001', 'k', 'v2');
      assert.equal(await store.getMeta('001', 'k'), 'v2');
      assert.equal(await store.getMeta('002', 'k'), undefined);
      await store.close();
    });

    it('forgets scanned roots, keeps the last batch\'s hash with its number, and renames or re-enrols an agent in place', async () => {
      const store = await factory.open();
      await store.markRootsScanned('001', [bytes('/etc'), bytes('/srv')], '2026-11-27T10:00:00Z');
      await store.unmarkRootsScanned('001', [bytes('/srv')]);
      assert.deepEqual((await store.scannedRoots('001')).map(String), ['/etc']);

      const agent = await store.registerAgent('web-1', '2026-11-27T10:00:00Z', 'web', 'a'.repeat(64));
      assert.equal(await store.lastBatchSha256(agent.id), undefined);
      await store.commit({ agentId: agent.id, upserts: [], deletes: [], events: [], sequence: 1, sequenceSha256: 'b'.repeat(64) });
      assert.equal(await store.lastSequence(agent.id), 1);
      assert.equal(await store.lastBatchSha256(agent.id), 'b'.repeat(64));

      assert.equal(await store.renameAgent(agent.id, 'web-2'), true);
      assert.equal(await store.renameAgent('999', 'x'), false);
      await store.markAgentSilent(agent.id, '2026-11-27T11:00:00Z');
      await store.reenrollAgent(agent.id, { name: 'web-3', machineId: 'c'.repeat(64), at: '2026-11-27T12:00:00Z' });
      const info = await store.getAgent(agent.id);
      assert.deepEqual([info?.name, info?.group, info?.machineId, info?.silentSince, info?.lastSeen], ['web-3', 'web', 'c'.repeat(64), undefined, '2026-11-27T12:00:00Z']);
      assert.equal(await store.lastSequence(agent.id), 1, 'it numbers on from what was applied');
      await store.close();
    });

    it('queues a batch\'s agent alerts in its transaction, and a refused batch queues none of them', async () => {
      const store = await factory.open();
      await store.upsertAgent({ id: '001', name: 'h' });
      const agentAlert = (id: string) => buildAgentAlert({ id, timestamp: new Date('2026-11-27T10:00:05.000Z'), agent: { id: '001', name: 'h' }, event: 'state-lost', details: {} });
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [{ ...record('/etc/a', 1), alertId: 'f1' }], agentAlerts: [agentAlert('g1')], sequence: 1 });
      await assert.rejects(
        store.commit({ agentId: '001', upserts: [fileState({ path: bytes('/etc/x') })], deletes: [], events: [{ ...record('/etc/b', 2), alertId: 'f2' }], agentAlerts: [agentAlert('g2')], sequence: 3 }),
        (error: Error) => error.name === 'SequenceError',
      );
      assert.deepEqual((await store.undeliveredAlerts(100)).map((a) => a.id), ['f1', 'g1']);
      const stored: string[] = [];
      for await (const a of store.queryAlerts({})) stored.push(a.id);
      assert.deepEqual(stored.sort(), ['f1', 'g1'], 'nothing of the refused batch is stored');
      assert.equal(await store.getBaselineState('001', bytes('/etc/x')), undefined);
      assert.equal(await store.lastSequence('001'), 1);
      await store.close();
    });
  });
}
