import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { fileState } from '../../test/support/file-states.js';
import { caOf, managerUnderTest, type ManagerUnderTest } from '../../test/support/manager-under-test.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { CHECK_ALL } from '../core/check-set.js';
import type { Observation } from '../core/observation.js';
import { AgentState } from './agent-state.js';
import { callManager, type ManagerEndpoint } from './manager-client.js';
import { OutboxSender, type OutboxSenderDeps } from './outbox-sender.js';

const observed = (path: string): Observation => ({
  path: Buffer.from(path),
  current: fileState({ path: Buffer.from(path) }),
  checks: CHECK_ALL,
  inBaseline: false,
});

async function until(what: string, test: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !test();) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function capture(): { lines: Record<string, unknown>[]; log: Logger } {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: pino({}, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}

describe('OutboxSender, against a real manager over mutual TLS', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;
  let url: string;
  before(async () => {
    m = await managerUnderTest(dir, { tls: true });
    url = await m.listen();
  });
  after(async () => m.close());

  const setUp = async (
    name: string,
    extra: Partial<OutboxSenderDeps> = {},
  ): Promise<{ id: string; state: AgentState; endpoint: ManagerEndpoint; sender: OutboxSender; lines: Record<string, unknown>[]; events: string[] }> => {
    const agent = await m.enrollAgent(name);
    const state = AgentState.open(join(dir, `${name}.db`));
    const endpoint = { url, ca: caOf(m), cert: agent.cert, key: agent.key };
    const { lines, log } = capture();
    const events: string[] = [];
    const sender = new OutboxSender({
      state,
      endpoint,
      log,
      beforeEachBatch: async () => void events.push('before batch'),
      resync: () => void events.push('resync'),
      stateLost: (ack, _generation, via) => void events.push(`state lost at ${ack} via ${via}`),
      backoffMs: 20,
      idleMs: 50,
      ...extra,
    });
    return { id: agent.id, state, endpoint, sender, lines, events };
  };

  it('delivers the outbox in order, each batch after the package hook, and the manager applies each once', async () => {
    const drained: number[] = [];
    const { id, state, sender, lines, events } = await setUp('web-1', { drained: (batches) => void drained.push(batches) });
    for (const path of ['/etc/a', '/etc/b', '/etc/c']) state.enqueue(id, [observed(path)]);
    sender.start();
    await until('an empty outbox', () => state.outboxSize() === 0);
    await sender.close();
    assert.equal(await m.store.lastSequence(id), 3);
    assert.deepEqual(events, ['before batch', 'before batch', 'before batch']);
    await until('the delivered log line', () => lines.some((l) => l.msg === 'outbox delivered' && l.batches === 3));
    assert.deepEqual(drained, [3], 'told once that the outbox drained, after 3 deliveries');
    state.close();
  });

  it('a batch the manager already applied (its acknowledgement lost) is acknowledged, not sent forever', async () => {
    const { id, state, endpoint, sender } = await setUp('web-2');
    state.enqueue(id, [observed('/etc/a')]);
    const first = state.oldest();
    assert.ok(first !== undefined);
    assert.equal((await callManager(endpoint, 'POST', '/v1/batches', first.body)).status, 200);
    sender.start();
    await until('an empty outbox', () => state.outboxSize() === 0);
    await sender.close();
    assert.equal(await m.store.lastSequence(id), 1);
    state.close();
  });

  it('a state behind what the manager applied is reported as lost', async () => {
    const { id, state, endpoint, sender, events } = await setUp('web-3');
    state.enqueue(id, [observed('/etc/a')]);
    state.enqueue(id, [observed('/etc/b')]);
    for (let entry = state.oldest(); entry !== undefined; entry = state.oldest()) {
      assert.equal((await callManager(endpoint, 'POST', '/v1/batches', entry.body)).status, 200);
      state.acknowledge(entry.seq);
    }
    // A restored, older agent.db numbers from 1 again with other content.
    const restored = AgentState.open(join(dir, 'web-3-restored.db'));
    restored.enqueue(id, [observed('/etc/other')]);
    const lost = new OutboxSender({
      state: restored,
      endpoint,
      log: capture().log,
      beforeEachBatch: async () => {},
      resync: () => {},
      stateLost: (ack, _g, via) => void events.push(`state lost at ${ack} via ${via}`),
      backoffMs: 20,
      idleMs: 50,
    });
    lost.start();
    await until('the state-lost report', () => events.includes('state lost at 2 via a batch'));
    await lost.close();
    await sender.close();
    restored.close();
    state.close();
  });

  it('keeps the outbox while the manager is unreachable, backing off, and stops on close', async () => {
    const { id, state, endpoint } = await setUp('web-4');
    state.enqueue(id, [observed('/etc/a')]);
    const { lines: warned, log } = capture();
    const unreachable = new OutboxSender({
      state,
      endpoint: { ...endpoint, url: 'https://127.0.0.1:9' },
      log,
      beforeEachBatch: async () => {},
      resync: () => {},
      stateLost: () => {},
      backoffMs: 20,
      maxBackoffMs: 40,
    });
    unreachable.start();
    await until('two retries', () => warned.filter((l) => l.msg === 'manager unreachable; keeping the outbox').length >= 2);
    await unreachable.close();
    assert.equal(state.outboxSize(), 1);
    const retries = warned.filter((l) => l.msg === 'manager unreachable; keeping the outbox').map((l) => l.retryInMs);
    assert.deepEqual(retries.slice(0, 2), [20, 40], 'doubling from the first back-off');
    assert.ok(
      retries.every((ms) => ms === 20 || ms === 40),
      'never past the maximum',
    );
    state.close();
  });
});
