import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { fileState } from '../../../test/support/file-states.js';
import { managerUnderTest, type ManagerUnderTest } from '../../../test/support/manager-under-test.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { CHECK_ALL } from '../../core/check-set.js';
import { encodeObservation, type BatchRequest } from '../../protocol/wire.js';
import type { SqliteStore } from '../../storage/sqlite/sqlite-store.js';
import type { Store } from '../../storage/store.js';

const observation = (path: string): ReturnType<typeof encodeObservation> =>
  encodeObservation({ path: Buffer.from(path), current: fileState({ path: Buffer.from(path) }), checks: CHECK_ALL, inBaseline: false });

describe('POST /v1/batches', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;
  let agent: Awaited<ReturnType<ManagerUnderTest['enrollAgent']>>;
  const post = (headers: Record<string, string>, payload: unknown): Promise<LightMyRequestResponse> =>
    m.app.inject({ method: 'POST', url: '/v1/batches', headers, payload: payload as object });
  before(async () => {
    m = await managerUnderTest(dir);
    agent = await m.enrollAgent('web-1');
  });
  after(async () => m.close());

  it('applies a batch and acknowledges it', async () => {
    const reply = await post(agent.headers, { agentId: agent.id, seq: 1, observations: [observation('/etc/hosts')] } satisfies BatchRequest);
    assert.equal(reply.statusCode, 200, reply.body);
    assert.deepEqual(reply.json(), { ack: 1 });
    assert.equal(await m.store.lastSequence(agent.id), 1);
  });

  it('refuses a body the wire does not accept: 400 MALFORMED_INPUT with the sequence held', async () => {
    const reply = await post(agent.headers, { agentId: agent.id, seq: 2, observations: [{ p: 'not base64!', c: 1 }] });
    assert.equal(reply.statusCode, 400);
    const body = reply.json<{ error: string; code: string; ack: number }>();
    assert.equal(body.code, 'MALFORMED_INPUT');
    assert.match(body.error, /^malformed batch: observations\.0\.p: expected base64/);
    assert.equal(body.ack, 1);
  });

  it('refuses an observation that does not decode (a NUL in its path) with 400 MALFORMED_INPUT; nothing applied', async () => {
    const bad = { p: Buffer.from('/etc\0passwd').toString('base64'), c: 511 };
    const reply = await post(agent.headers, { agentId: agent.id, seq: 2, observations: [bad] });
    assert.equal(reply.statusCode, 400, reply.body);
    assert.deepEqual(reply.json(), { error: 'malformed observation: observation path contains a NUL byte', code: 'MALFORMED_INPUT', ack: 1 });
    assert.equal(await m.store.lastSequence(agent.id), 1);
  });

  it("refuses a batch sent for another agent with this agent's certificate: 403", async () => {
    const other = await m.enrollAgent('db-1');
    const reply = await post(agent.headers, { agentId: other.id, seq: 1, observations: [] });
    assert.equal(reply.statusCode, 403);
    assert.equal(reply.json<{ code: string }>().code, 'FORBIDDEN');
  });

  it('answers a replay of the batch last applied with 409 duplicate, and an out-of-order one with 409', async () => {
    const replay = await post(agent.headers, { agentId: agent.id, seq: 1, observations: [observation('/etc/hosts')] });
    assert.equal(replay.statusCode, 409);
    assert.equal(replay.json<{ duplicate?: boolean }>().duplicate, true);
    const ahead = await post(agent.headers, { agentId: agent.id, seq: 5, observations: [] });
    assert.equal(ahead.statusCode, 409);
    assert.match(ahead.json<{ error: string }>().error, /out-of-order batch 5: the next one is 2/);
  });
});

describe('POST /v1/batches when the manager itself fails', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;

  // The real store, except that committing a batch throws the TypeError a bug in storage would: it must not be
  // blamed on the agent (before, any TypeError was "400 malformed observation").
  const failingCommit = (store: SqliteStore): Store =>
    new Proxy(store, {
      get(target, property, receiver) {
        if (property === 'commit') {
          return () => {
            throw new TypeError("Cannot read properties of undefined (reading 'digest')");
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });

  before(async () => {
    m = await managerUnderTest(dir, { storeFor: failingCommit });
  });
  after(async () => m.close());

  it('answers 500 INTERNAL without the message, and logs it as an error with the cause', async () => {
    const agent = await m.enrollAgent('web-1');
    const reply = await m.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: agent.headers,
      payload: { agentId: agent.id, seq: 1, observations: [observation('/etc/hosts')] },
    });
    assert.equal(reply.statusCode, 500, reply.body);
    assert.deepEqual(reply.json(), { error: 'internal error', code: 'INTERNAL' });
    const logged = m.logs.find((l) => l.msg === 'request failed');
    assert.equal(logged?.level, 50);
    assert.match(JSON.stringify(logged?.err), /reading 'digest'/);
    assert.equal(m.ctx.metrics.batchesRejected, 0, 'not counted as a refused batch');
  });
});
