import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { buildAgentAlert } from '../core/agent-alerts.js';
import type { AnyAlert } from '../core/build-alert.js';
import { BUILTIN_RULES } from '../core/builtin-rules.js';
import { CHECK_ALL } from '../core/check-set.js';
import { diffFileStates } from '../core/file-change.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import type { AlertSink } from './alert-sink.js';
import { deliverAlerts, redeliverAlerts } from './deliver-alerts.js';
import { formatOssecAlert } from './sinks/format-ossec-alert.js';
import { JsonLinesAlertSink } from './sinks/json-lines-alert-sink.js';
import { OssecLogAlertSink } from './sinks/ossec-log-alert-sink.js';

const dir = tempDir();
let n = 0;

/** A store holding `count` committed alerts (the last one an agent alert), as a run leaves it just before its sinks write. */
async function storeWithAlerts(count: number): Promise<{ store: SqliteStore; alerts: readonly AnyAlert[] }> {
  const store = SqliteStore.open(join(dir, `store-${n++}.db`));
  await store.upsertAgent({ id: '001', name: 'web1' });
  const events = Array.from({ length: count - 1 }, (_, i) => {
    const path = Buffer.from(`/etc/file-${i}`);
    const change = diffFileStates(fileState({ path }), fileState({ path, size: 9000 + i }), CHECK_ALL);
    assert.ok(change !== undefined);
    return {
      agentId: '001',
      timestamp: new Date(Date.UTC(2026, 10, 28, 10) + i).toISOString(),
      change,
      verdict: { verdict: 'unknown' as const },
      rule: BUILTIN_RULES.modified,
      outcome: 'alerted' as const,
      alertId: `1795860000.a${i}`,
    };
  });
  await store.commit({ agentId: '001', upserts: [], deletes: [], events });
  await store.recordAgentAlert(
    buildAgentAlert({ id: '1795860000.b0', timestamp: new Date('2026-11-28T10:00:09.000Z'), agent: { id: '001', name: 'web1' }, event: 'silent', details: {} }),
  );
  const alerts = await store.undeliveredAlerts(count + 1);
  assert.equal(alerts.length, count);
  return { store, alerts };
}

const ids = (alerts: readonly AnyAlert[]): string[] => alerts.map((a) => a.id);
const jsonIds = (path: string): string[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (JSON.parse(line) as AnyAlert).id);
const logIds = (path: string): string[] => [...readFileSync(path, 'utf8').matchAll(/^\*\* Alert (\S+):/gm)].map((m) => m[1] ?? '');

describe('alert delivery across crashes', () => {
  it('takes delivered alerts off the queue; after a failed delivery, sends the backlog first, in order', async () => {
    const { store, alerts } = await storeWithAlerts(3);
    const got: AnyAlert[] = [];
    const collector: AlertSink = { write: async (a) => void got.push(...a), close: async () => {} };
    let full = true;
    const disk: AlertSink = {
      write: async () => {
        if (full) throw new Error('disk full');
      },
      close: async () => {},
    };
    await assert.rejects(deliverAlerts(store, [collector, disk], alerts), /disk full/);
    assert.deepEqual(ids(await store.undeliveredAlerts(100)), ids(alerts), 'nothing is lost when a sink fails');
    // The disk has room again; the next batch of alerts is committed and delivered.
    full = false;
    got.length = 0;
    const path = Buffer.from('/etc/later');
    const change = diffFileStates(fileState({ path }), fileState({ path, size: 1 }), CHECK_ALL);
    assert.ok(change !== undefined);
    await store.commit({
      agentId: '001',
      upserts: [],
      deletes: [],
      events: [
        {
          agentId: '001',
          timestamp: '2026-11-28T11:00:00.000Z',
          change,
          verdict: { verdict: 'unknown' },
          rule: BUILTIN_RULES.modified,
          outcome: 'alerted',
          alertId: '1795870000.d0',
        },
      ],
    });
    const later = (await store.undeliveredAlerts(100)).filter((a) => a.id === '1795870000.d0');
    await deliverAlerts(store, [collector, disk], later);
    assert.deepEqual(ids(got), [...ids(alerts), '1795870000.d0'], 'the backlog went out before the new alert');
    assert.deepEqual(await store.undeliveredAlerts(100), []);
    // Back to normal: the next delivery writes only its own alerts.
    got.length = 0;
    await deliverAlerts(store, [collector], later);
    assert.deepEqual(ids(got), ['1795870000.d0']);
    await store.close();
  });

  it('reads a long queue a page at a time', async () => {
    const { store, alerts } = await storeWithAlerts(2500);
    const json = join(dir, `alerts-${n}.json`);
    const writes: number[] = [];
    const counter: AlertSink = { write: async (a) => void writes.push(a.length), close: async () => {} };
    assert.equal(await redeliverAlerts(store, [new JsonLinesAlertSink(json), counter]), 2500);
    assert.deepEqual(writes, [1000, 1000, 500]);
    assert.deepEqual(jsonIds(json), ids(alerts));
    await store.close();
  });

  it('delivers at the next start what a run killed before writing had stored', async () => {
    const { store, alerts } = await storeWithAlerts(3);
    const json = join(dir, `alerts-${n}.json`);
    const log = join(dir, `alerts-${n}.log`);
    const seen: AnyAlert[] = [];
    const sinks = [
      new JsonLinesAlertSink(json),
      new OssecLogAlertSink(log, 'host'),
      { write: async (a: readonly AnyAlert[]) => void seen.push(...a), close: async () => {} },
    ];
    assert.equal(existsSync(json), false);
    assert.equal(await redeliverAlerts(store, sinks), 3);
    assert.deepEqual(jsonIds(json), ids(alerts));
    assert.deepEqual(logIds(log), ids(alerts));
    assert.deepEqual(seen, alerts, 'a sink without redeliver gets them all');
    assert.deepEqual(await store.undeliveredAlerts(100), []);
    assert.equal(await redeliverAlerts(store, sinks), 0, 'and only once');
    for (const sink of sinks) await sink.close();
    await store.close();
  });

  it('cuts a record torn mid-write and writes each alert exactly once', async () => {
    const { store, alerts } = await storeWithAlerts(4);
    const json = join(dir, `alerts-${n}.json`);
    const log = join(dir, `alerts-${n}.log`);
    // Delivered long ago, then the crashed run: two of the four alerts written whole, the third cut mid-record.
    const older = buildAgentAlert({
      id: '1795850000.c0',
      timestamp: new Date('2026-11-28T09:00:00.000Z'),
      agent: { id: '001', name: 'web1' },
      event: 'back',
      details: {},
    });
    const lines = [older, ...alerts].map((a) => `${JSON.stringify(a)}\n`);
    writeFileSync(json, `${lines.slice(0, 3).join('')}${(lines[3] ?? '').slice(0, 40)}`);
    const blocks = [older, ...alerts].map((a) => formatOssecAlert(a, 'host'));
    writeFileSync(log, `${blocks.slice(0, 3).join('')}${(blocks[3] ?? '').slice(0, 60)}`);
    const sinks = [new JsonLinesAlertSink(json), new OssecLogAlertSink(log, 'host')];
    assert.equal(await redeliverAlerts(store, sinks), 4);
    assert.deepEqual(jsonIds(json), ids([older, ...alerts]), 'every line parses, each alert once, in order');
    assert.equal(readFileSync(json, 'utf8'), lines.join(''));
    assert.deepEqual(logIds(log), ids([older, ...alerts]));
    assert.equal(readFileSync(log, 'utf8'), blocks.join(''));
    // Later alerts append normally after the repair.
    await sinks[0]?.write([older]);
    assert.equal(jsonIds(json).length, 6);
    for (const sink of sinks) await sink.close();
    await store.close();
  });

  it('writes nothing twice when the crash came after the files had everything', async () => {
    const { store, alerts } = await storeWithAlerts(2);
    const json = join(dir, `alerts-${n}.json`);
    appendFileSync(json, alerts.map((a) => `${JSON.stringify(a)}\n`).join(''));
    const before = readFileSync(json, 'utf8');
    assert.equal(await redeliverAlerts(store, [new JsonLinesAlertSink(json)]), 2);
    assert.equal(readFileSync(json, 'utf8'), before);
    await store.close();
  });
});
