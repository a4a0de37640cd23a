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
import { SequenceError, type Store } from '../../src/storage/store.js';
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

/** A modification of `path` at second `i` after 2026-11-27T10:00:00Z, by agent `agentId`, alerted as `alertId`. */
function timedRecord(path: string, i: number, agentId: string, alertId?: string): EventRecord {
  const p = bytes(path);
  const change = diffFileStates(fileState({ path: p }), fileState({ path: p, size: 1000 + i }), CHECK_ALL);
  assert.ok(change !== undefined);
  const timestamp = new Date(Date.parse('2026-11-27T10:00:00.000Z') + i * 1000).toISOString();
  return {
    agentId,
    timestamp,
    change,
    verdict: { verdict: 'unknown' },
    rule: BUILTIN_RULES.modified,
    outcome: 'alerted',
    ...(alertId === undefined ? {} : { alertId }),
  };
}

function agentAlertAt(id: string, i: number, agentId: string): ReturnType<typeof buildAgentAlert> {
  return buildAgentAlert({
    id,
    timestamp: new Date(Date.parse('2026-11-27T10:00:00.000Z') + i * 1000),
    agent: { id: agentId, name: `h${agentId}` },
    event: 'out-of-sync',
    details: { scan: i },
  });
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
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
      assert.deepEqual(
        events.map((e) => e.record.change.path.toString()),
        ['/a', '/b', '/c'],
      );
      await store.close();
    });

    const tampering: [string, string, number, RegExp][] = [
      ['an edited record', 'UPDATE events SET data = replace(data, \'"alerted"\', \'"recorded"\') WHERE id = 2', 2, /edited|disagrees/],
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
      assert.deepEqual(
        found.map((a) => a.id),
        ['a2'],
      );
      const expected = buildAlert({
        id: 'a2',
        timestamp: new Date(events[2]?.timestamp ?? ''),
        agent: { id: '001', name: 'h' },
        rule: BUILTIN_RULES.modified,
        change: events[2]!.change,
        verdict: events[2]!.verdict,
      });
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
      await store.commit({
        agentId: '001',
        upserts: [],
        deletes: [],
        events: [{ ...events[0]!, alertId: 'f1' }, events[1]!, { ...events[2]!, alertId: 'f2' }],
      });
      const agentAlert = buildAgentAlert({
        id: 'g1',
        timestamp: new Date('2026-11-27T10:00:04.000Z'),
        agent: { id: '001', name: 'h' },
        event: 'silent',
        details: { last_seen: '2026-11-27T09:00:00.000Z' },
      });
      await store.recordAgentAlert(agentAlert);
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [{ ...record('/etc/d', 5), alertId: 'f3' }] });
      const queued = await store.undeliveredAlerts(100);
      assert.deepEqual(
        queued.map((a) => a.id),
        ['f1', 'f2', 'g1', 'f3'],
        'alerts only, in the order they were committed',
      );
      assert.deepEqual(
        (await store.undeliveredAlerts(2)).map((a) => a.id),
        ['f1', 'f2'],
        'the oldest first',
      );
      const all: AnyAlert[] = [];
      for await (const a of store.queryAlerts({})) all.push(a);
      assert.deepEqual(
        queued,
        ['f1', 'f2', 'g1', 'f3'].map((id) => all.find((a) => a.id === id)),
        'the same alerts the history rebuilds',
      );
      await store.markAlertsDelivered(['f1', 'g1']);
      assert.deepEqual(
        (await store.undeliveredAlerts(100)).map((a) => a.id),
        ['f2', 'f3'],
      );
      assert.deepEqual(await store.orphanedAlerts(100), [], "a store's own alerts are never orphans");
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

    it('lists enrollment tokens without their secrets, and revokes an unused one so it can no longer enrol', async () => {
      const store = await factory.open();
      const t = (id: string, createdAt: string, expiresAt: string) => ({ id, secretSha256: id.padEnd(64, '0'), createdAt, expiresAt });
      await store.createEnrollmentToken(t('aaaaaaaaaaaa', '2026-11-27T10:00:00.000Z', '2026-11-27T11:00:00.000Z'));
      await store.createEnrollmentToken(t('bbbbbbbbbbbb', '2026-11-27T10:05:00.000Z', '2026-11-28T10:05:00.000Z'));
      await store.createEnrollmentToken(t('cccccccccccc', '2026-11-27T10:10:00.000Z', '2026-11-28T10:10:00.000Z'));
      await store.createEnrollmentToken(t('dddddddddddd', '2026-11-20T10:00:00.000Z', '2026-11-21T10:00:00.000Z'));
      assert.equal(await store.consumeEnrollmentToken('cccccccccccc', 'cccccccccccc'.padEnd(64, '0'), '2026-11-27T10:20:00.000Z', 'web-9'), 'ok');
      const at = '2026-11-27T10:30:00.000Z';
      assert.equal(await store.revokeEnrollmentToken('bbbbbbbbbbbb', at), true);
      assert.equal(await store.revokeEnrollmentToken('bbbbbbbbbbbb', at), false, 'already revoked');
      assert.equal(await store.revokeEnrollmentToken('cccccccccccc', at), false, 'used');
      assert.equal(await store.revokeEnrollmentToken('aaaaaaaaaaaa', '2026-11-27T12:00:00.000Z'), false, 'expired');
      assert.equal(await store.revokeEnrollmentToken('eeeeeeeeeeee', at), false, 'unknown');
      assert.equal(await store.consumeEnrollmentToken('bbbbbbbbbbbb', 'bbbbbbbbbbbb'.padEnd(64, '0'), '2026-11-27T10:31:00.000Z', 'web-8'), 'expired');
      assert.deepEqual(await store.listEnrollmentTokens('2026-11-27T00:00:00.000Z'), [
        {
          id: 'cccccccccccc',
          createdAt: '2026-11-27T10:10:00.000Z',
          expiresAt: '2026-11-28T10:10:00.000Z',
          usedAt: '2026-11-27T10:20:00.000Z',
          usedBy: 'web-9',
        },
        { id: 'bbbbbbbbbbbb', createdAt: '2026-11-27T10:05:00.000Z', expiresAt: at },
        { id: 'aaaaaaaaaaaa', createdAt: '2026-11-27T10:00:00.000Z', expiresAt: '2026-11-27T11:00:00.000Z' },
      ]);
      await store.close();
    });

    it("forgets scanned roots, keeps the last batch's hash with its number, and renames or re-enrols an agent in place", async () => {
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
      assert.deepEqual(
        [info?.name, info?.group, info?.machineId, info?.silentSince, info?.lastSeen],
        ['web-3', 'web', 'c'.repeat(64), undefined, '2026-11-27T12:00:00Z'],
      );
      assert.equal(await store.lastSequence(agent.id), 1, 'it numbers on from what was applied');
      await store.close();
    });

    it("commits a batch's agent alerts with the batch, queued for delivery, and none of a refused batch's", async () => {
      const store = await factory.open();
      await store.upsertAgent({ id: '001', name: 'h001' });
      const overflow = agentAlertAt('g1', 1, '001');
      await store.commit({
        agentId: '001',
        upserts: [fileState({ path: bytes('/etc/a') })],
        deletes: [],
        events: [timedRecord('/etc/a', 2, '001', 'f1')],
        sequence: 1,
        agentAlerts: [overflow],
      });
      assert.deepEqual(
        (await store.undeliveredAlerts(10)).map((a) => a.id),
        ['f1', 'g1'],
        "file alerts first, then the batch's agent alerts, all queued",
      );
      assert.deepEqual(
        await collect(store.queryAlerts({ agentId: '001' })),
        [overflow, (await store.undeliveredAlerts(10))[0]],
        'stored whole, listed by time',
      );

      // A replay of sequence 1 and a jump to 3 are refused: none of their baseline, history or alerts lands.
      for (const sequence of [1, 3]) {
        const refused = store.commit({
          agentId: '001',
          upserts: [fileState({ path: bytes('/etc/b') })],
          deletes: [],
          events: [timedRecord('/etc/b', 3, '001', `f-${sequence}`)],
          sequence,
          agentAlerts: [agentAlertAt(`g-${sequence}`, 4, '001')],
        });
        await assert.rejects(refused, (error: unknown) => error instanceof SequenceError && error.expected === 2);
      }
      assert.deepEqual(
        (await store.undeliveredAlerts(10)).map((a) => a.id),
        ['f1', 'g1'],
      );
      assert.deepEqual(
        (await collect(store.queryAlerts({}))).map((a) => a.id),
        ['g1', 'f1'],
      );
      assert.equal(await store.getBaselineState('001', bytes('/etc/b')), undefined);
      assert.deepEqual((await collect(store.queryEvents({}))).length, 1);
      assert.equal(await store.lastSequence('001'), 1);

      // Without events or a sequence, the agent alerts alone still commit.
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: [], agentAlerts: [agentAlertAt('g2', 5, '001')] });
      assert.deepEqual(
        (await store.undeliveredAlerts(10)).map((a) => a.id),
        ['f1', 'g1', 'g2'],
      );
      await store.close();
    });

    it('reads a history and alerts many pages long in order, with every filter', async () => {
      const store = await factory.open();
      await store.upsertAgent({ id: '001', name: 'h001' });
      await store.upsertAgent({ id: '002', name: 'h002' });
      // 2,400 records over two agents and two trees, every third one alerted; an agent alert every 7 seconds.
      const records: EventRecord[] = [];
      for (let i = 0; i < 2400; i++) {
        const agentId = i % 2 === 0 ? '001' : '002';
        records.push(timedRecord(`${i % 5 === 0 ? '/usr' : '/etc'}/f${i}`, i, agentId, i % 3 === 0 ? `f${i}` : undefined));
      }
      // Committed agent by agent: the history's (id) order is the commit order, not the time order.
      const committed: EventRecord[] = [];
      for (const agentId of ['001', '002']) {
        const mine = records.filter((r) => r.agentId === agentId);
        for (let i = 0; i < mine.length; i += 400) await store.commit({ agentId, upserts: [], deletes: [], events: mine.slice(i, i + 400) });
        committed.push(...mine);
      }
      const agentAlerts = [];
      for (let i = 3; i < 2400; i += 7) agentAlerts.push(agentAlertAt(`g${i}`, i, i % 2 === 0 ? '001' : '002'));
      for (const alert of agentAlerts) await store.recordAgentAlert(alert);

      const since = new Date(Date.parse('2026-11-27T10:00:00.000Z') + 700_000).toISOString();
      const queries = [
        {},
        { agentId: '002' },
        { since },
        { path: bytes('/usr') },
        { agentId: '001', path: bytes('/etc'), since },
        { limit: 1234 },
        { agentId: '001', limit: 777 },
        { limit: 5 },
        { limit: 0 },
      ];
      for (const query of queries) {
        const matches = (r: { agentId: string; timestamp: string; path?: Buffer }): boolean =>
          (query.agentId === undefined || r.agentId === query.agentId) &&
          (query.since === undefined || r.timestamp >= query.since) &&
          (query.path === undefined ||
            (r.path !== undefined && (r.path.equals(query.path) || r.path.subarray(0, query.path.length + 1).equals(Buffer.concat([query.path, bytes('/')])))));
        const newest = <T>(all: T[]): T[] => (query.limit === undefined ? all : query.limit === 0 ? [] : all.slice(-query.limit));
        const expectedEvents = newest(committed.filter((r) => matches({ ...r, path: r.change.path })).map((r) => r.change.path.toString()));
        const events = await collect(store.queryEvents(query));
        assert.deepEqual(
          events.map((e) => e.record.change.path.toString()),
          expectedEvents,
          `events ${JSON.stringify(query)}`,
        );
        assert.ok(
          events.every((e, i) => i === 0 || e.id > (events[i - 1] as { id: number }).id),
          'in id order',
        );

        // Alerts: file and agent alerts merged by time (a file alert first on a tie), agent alerts never under a path.
        const expectedAlerts: string[] = newest(
          [
            ...records
              .filter((r) => r.alertId !== undefined && matches({ ...r, path: r.change.path }))
              .map((r) => ({ id: r.alertId as string, ts: r.timestamp, file: 0 })),
            ...agentAlerts.filter((a) => matches({ agentId: a.agent.id, timestamp: a.timestamp })).map((a) => ({ id: a.id, ts: a.timestamp, file: 1 })),
          ]
            .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.file - b.file))
            .map((a) => a.id),
        );
        assert.deepEqual(
          (await collect(store.queryAlerts(query))).map((a) => a.id),
          expectedAlerts,
          `alerts ${JSON.stringify(query)}`,
        );
      }
      await store.close();
    });

    it('reads only what was committed when a read began, even while the history grows under it', async () => {
      const store = await factory.open();
      const first = Array.from({ length: 1200 }, (_, i) => timedRecord(`/etc/f${i}`, i, '001', `f${i}`));
      await store.commit({ agentId: '001', upserts: [], deletes: [], events: first });
      let seen = 0;
      for await (const event of store.queryEvents({ agentId: '001' })) {
        // Commits land between the pages of the read.
        if (seen++ % 400 === 0) await store.commit({ agentId: '001', upserts: [], deletes: [], events: [timedRecord(`/etc/late${seen}`, 5000 + seen, '001')] });
        assert.ok(event.record.change.path.toString().startsWith('/etc/f'));
      }
      assert.equal(seen, 1200);
      assert.equal((await collect(store.queryEvents({ agentId: '001' }))).length, 1203);
      await store.close();
    });

    it("queues a batch's agent alerts in its transaction, and a refused batch queues none of them", async () => {
      const store = await factory.open();
      await store.upsertAgent({ id: '001', name: 'h' });
      const agentAlert = (id: string) =>
        buildAgentAlert({ id, timestamp: new Date('2026-11-27T10:00:05.000Z'), agent: { id: '001', name: 'h' }, event: 'state-lost', details: {} });
      await store.commit({
        agentId: '001',
        upserts: [],
        deletes: [],
        events: [{ ...record('/etc/a', 1), alertId: 'f1' }],
        agentAlerts: [agentAlert('g1')],
        sequence: 1,
      });
      await assert.rejects(
        store.commit({
          agentId: '001',
          upserts: [fileState({ path: bytes('/etc/x') })],
          deletes: [],
          events: [{ ...record('/etc/b', 2), alertId: 'f2' }],
          agentAlerts: [agentAlert('g2')],
          sequence: 3,
        }),
        (error: Error) => error.name === 'SequenceError',
      );
      assert.deepEqual(
        (await store.undeliveredAlerts(100)).map((a) => a.id),
        ['f1', 'g1'],
      );
      const stored: string[] = [];
      for await (const a of store.queryAlerts({})) stored.push(a.id);
      assert.deepEqual(stored.sort(), ['f1', 'g1'], 'nothing of the refused batch is stored');
      assert.equal(await store.getBaselineState('001', bytes('/etc/x')), undefined);
      assert.equal(await store.lastSequence('001'), 1);
      await store.close();
    });

    it("commits a batch's bookkeeping with it (scanned roots, resync paths forgotten, meta set or kept), and none of a refused batch's", async () => {
      const store = await factory.open();
      await store.upsertAgent({ id: '001', name: 'h' });
      await store.setMeta('001', 'baseline_built', '2026-11-01T00:00:00Z');
      // A resync scan's first batch reports /etc/a; its last (sequence 2) ends the scan with its bookkeeping.
      await store.commit({
        agentId: '001',
        upserts: [fileState({ path: bytes('/etc/a') })],
        deletes: [],
        events: [],
        sequence: 1,
        resyncSeen: [bytes('/etc/a')],
      });
      await store.commit({
        agentId: '001',
        upserts: [fileState({ path: bytes('/etc/b') })],
        deletes: [],
        events: [],
        sequence: 2,
        resyncSeen: [bytes('/etc/b')],
      });
      assert.deepEqual((await store.unseenByResync('001')).map(String), [], 'both paths remembered while the scan runs');
      const ending = {
        clearResyncSeen: true,
        rootsScanned: { roots: [bytes('/etc')], at: '2026-11-27T10:00:00Z' },
        meta: [
          { key: 'baseline_built', value: '2026-11-27T10:00:00Z', keep: true },
          { key: 'scan_roots', value: '/etc' },
        ],
      };
      // Refused (sequence 4 is not next): none of its bookkeeping lands either.
      await assert.rejects(
        store.commit({ agentId: '001', upserts: [], deletes: [], events: [], sequence: 4, bookkeeping: ending }),
        (error: Error) => error.name === 'SequenceError',
      );
      assert.deepEqual(await store.scannedRoots('001'), []);
      assert.equal(await store.getMeta('001', 'scan_roots'), undefined);
      await store.commit({
        agentId: '001',
        upserts: [fileState({ path: bytes('/etc/c') })],
        deletes: [],
        events: [],
        sequence: 3,
        resyncSeen: [bytes('/etc/c')],
        bookkeeping: ending,
      });
      assert.deepEqual((await store.scannedRoots('001')).map(String), ['/etc']);
      assert.equal(await store.getMeta('001', 'scan_roots'), '/etc');
      assert.equal(await store.getMeta('001', 'baseline_built'), '2026-11-01T00:00:00Z', 'keep: the first value stays');
      // The seen paths are forgotten, the batch's own included: every baseline path is unseen by the next resync.
      assert.deepEqual((await store.unseenByResync('001')).map(String), ['/etc/a', '/etc/b', '/etc/c']);
      // Without a sequence (a standalone run's last commit), bookkeeping alone commits.
      await store.commit({
        agentId: '002',
        upserts: [],
        deletes: [],
        events: [],
        bookkeeping: { rootsScanned: { roots: [bytes('/usr')], at: '2026-11-27T11:00:00Z' }, meta: [{ key: 'baseline_built', value: 'x', keep: true }] },
      });
      assert.deepEqual((await store.scannedRoots('002')).map(String), ['/usr']);
      assert.equal(await store.getMeta('002', 'baseline_built'), 'x', 'keep sets a value that is not there');
      await store.close();
    });
  });
}
