import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { managerUnderTest, TEST_PEER_HEADER, type ManagerUnderTest } from '../../../test/support/manager-under-test.js';
import { tempDir } from '../../../test/support/temp-dir.js';

describe('agent authentication (one hook over every agent route)', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;
  before(async () => {
    m = await managerUnderTest(dir);
  });
  after(async () => m.close());

  const agentRoutes = [
    { method: 'POST', url: '/v1/batches' },
    { method: 'POST', url: '/v1/keepalive' },
    { method: 'GET', url: '/v1/config' },
    { method: 'GET', url: '/v1/packages' },
    { method: 'POST', url: '/v1/packages' },
    { method: 'POST', url: `/v1/debs/${'a'.repeat(64)}` },
  ] as const;

  for (const route of agentRoutes) {
    it(`${route.method} ${route.url} without a client certificate: 401, connection closed, body not read`, async () => {
      const from = m.logs.length;
      const reply = await m.app.inject({ method: route.method, url: route.url, ...(route.method === 'POST' ? { payload: { not: 'validated' } } : {}) });
      assert.equal(reply.statusCode, 401);
      assert.equal(reply.headers.connection, 'close');
      assert.deepEqual(reply.json(), { error: 'no valid client certificate', code: 'UNAUTHENTICATED' });
      assert.ok(m.logs.slice(from).some((l) => l.msg === 'refused an agent request' && l.body === 'not read'));
    });
  }

  it('refuses an unknown agent and a certificate it was not issued, before the body is validated', async () => {
    const unknown = await m.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: { [TEST_PEER_HEADER]: JSON.stringify({ id: '999', sha256: 'f'.repeat(64) }) },
      payload: { garbage: true },
    });
    assert.equal(unknown.statusCode, 401);
    assert.match(unknown.json<{ error: string }>().error, /unknown agent 999/);
    const agent = await m.enrollAgent('web-1');
    const stolen = await m.app.inject({
      method: 'POST',
      url: '/v1/keepalive',
      headers: { [TEST_PEER_HEADER]: JSON.stringify({ id: agent.id, sha256: '0'.repeat(64) }) },
      payload: {},
    });
    assert.equal(stolen.statusCode, 401);
    assert.match(stolen.json<{ error: string }>().error, /presented a certificate it was not issued/);
  });

  it('refuses a revoked agent and raises rule 571 once (rate-limited) with what it still holds', async () => {
    const agent = await m.enrollAgent('gone-1');
    assert.equal(await m.store.revokeAgent(agent.id, new Date().toISOString()), true);
    for (let i = 0; i < 3; i++) {
      const reply = await m.app.inject({ method: 'POST', url: '/v1/keepalive', headers: agent.headers, payload: { pending: 7 } });
      assert.equal(reply.statusCode, 401);
      assert.match(reply.json<{ error: string }>().error, /was revoked at/);
    }
    const attempts = m.alerts.filter((a) => a.rule.id === '571');
    assert.equal(attempts.length, 1);
    assert.match(JSON.stringify(attempts[0]), /"pending_batches":7/);
  });

  it('lets an enrolled agent in, and writes its last_seen', async () => {
    const agent = await m.enrollAgent('db-1');
    const reply = await m.app.inject({ method: 'POST', url: '/v1/keepalive', headers: agent.headers, payload: {} });
    assert.equal(reply.statusCode, 200, reply.body);
    assert.ok((await m.store.getAgent(agent.id))?.lastSeen !== undefined);
  });
});
