import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caOf, certificateRequest, managerUnderTest, type ManagerUnderTest } from '../../../test/support/manager-under-test.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { createEnrollmentToken } from '../enrollment-token.js';
import { certSha256 } from '../manager-pki.js';

describe('POST /v1/enroll', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;
  let csr: string;
  const token = async (): Promise<string> => (await createEnrollmentToken(m.store, m.pki.caSha256, 60_000, new Date())).token;
  before(async () => {
    m = await managerUnderTest(dir);
    csr = certificateRequest(dir, 'web-1');
  });
  after(async () => m.close());

  it('refuses a body the wire does not accept with 400 MALFORMED_INPUT naming the field, and counts it', async () => {
    const reply = await m.app.inject({ method: 'POST', url: '/v1/enroll', payload: { token: await token(), name: '../etc', csr } });
    assert.equal(reply.statusCode, 400);
    const body = reply.json<{ error: string; code: string }>();
    assert.equal(body.code, 'MALFORMED_INPUT');
    assert.match(body.error, /^malformed enrollment request: name: /);
    assert.equal(m.ctx.metrics.enrollmentsRefused, 1);
  });

  it('refuses a body with an unknown field (the strict decoder is the schema)', async () => {
    const reply = await m.app.inject({ method: 'POST', url: '/v1/enroll', payload: { token: await token(), name: 'web-1', csr, admin: true } });
    assert.equal(reply.statusCode, 400);
    assert.equal(reply.json<{ code: string }>().code, 'MALFORMED_INPUT');
  });

  it('refuses a certificate request that does not verify, without spending the token', async () => {
    const valid = await token();
    const bogus = `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(200)}\n-----END CERTIFICATE REQUEST-----\n`;
    const reply = await m.app.inject({ method: 'POST', url: '/v1/enroll', payload: { token: valid, name: 'web-1', csr: bogus } });
    assert.equal(reply.statusCode, 400);
    assert.match(reply.json<{ error: string }>().error, /does not verify/);
    const again = await m.app.inject({ method: 'POST', url: '/v1/enroll', payload: { token: valid, name: 'web-1', csr } });
    assert.equal(again.statusCode, 200, again.body);
  });

  it('refuses an unknown token with 403 and never logs the secret', async () => {
    const forged = `${(await token()).slice(0, -4)}AAAA`;
    const reply = await m.app.inject({ method: 'POST', url: '/v1/enroll', payload: { token: forged, name: 'web-2', csr } });
    assert.equal(reply.statusCode, 403);
    assert.equal(reply.json<{ code: string }>().code, 'FORBIDDEN');
    assert.ok(!JSON.stringify(m.logs).includes(forged), 'the token is not in the log');
  });

  it('enrolls with a valid token: a certificate for a new agent id, signed by the CA, whose fingerprint the store holds', async () => {
    const reply = await m.app.inject({ method: 'POST', url: '/v1/enroll', payload: { token: await token(), name: 'db-1', csr } });
    assert.equal(reply.statusCode, 200, reply.body);
    const body = reply.json<{ agentId: string; name: string; cert: string; ca: string }>();
    assert.equal(body.name, 'db-1');
    assert.equal(body.ca, caOf(m));
    assert.equal((await m.store.getAgent(body.agentId))?.certSha256, certSha256(body.cert));
    const reused = await m.app.inject({ method: 'POST', url: '/v1/enroll', payload: { token: 'x'.repeat(10), name: 'db-2', csr } });
    assert.equal(reused.statusCode, 403);
  });
});
