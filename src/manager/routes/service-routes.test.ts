import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caOf, managerUnderTest, type ManagerUnderTest } from '../../../test/support/manager-under-test.js';
import { tempDir } from '../../../test/support/temp-dir.js';

describe('service routes: /healthz, /metrics, /v1/ca (no client certificate needed)', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;
  before(async () => {
    m = await managerUnderTest(dir);
  });
  after(async () => m.close());

  it('/healthz counts enrolled agents, not the manager itself', async () => {
    assert.deepEqual((await m.app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok', agents: 0 });
    await m.enrollAgent('web-1');
    assert.deepEqual((await m.app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok', agents: 1 });
  });

  it('/metrics is Prometheus text that counts what happened', async () => {
    await m.app.inject({ method: 'POST', url: '/v1/enroll', payload: { token: 'x' } });
    const reply = await m.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(reply.statusCode, 200);
    assert.match(String(reply.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(reply.body, /^custos_enrollments_refused_total 1$/m);
  });

  it('/v1/ca is the CA certificate the manager signs with', async () => {
    const reply = await m.app.inject({ method: 'GET', url: '/v1/ca' });
    assert.equal(reply.statusCode, 200);
    assert.equal(reply.body, caOf(m));
  });

  it('an unknown route is a coded 404', async () => {
    const reply = await m.app.inject({ method: 'GET', url: '/v1/nothing' });
    assert.equal(reply.statusCode, 404);
  });
});
