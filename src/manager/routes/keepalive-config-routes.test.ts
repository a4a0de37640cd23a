import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { managerUnderTest, type ManagerUnderTest } from '../../../test/support/manager-under-test.js';
import { tempDir } from '../../../test/support/temp-dir.js';

describe('POST /v1/keepalive and GET /v1/config', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;
  let agent: Awaited<ReturnType<ManagerUnderTest['enrollAgent']>>;
  before(async () => {
    m = await managerUnderTest(dir);
    agent = await m.enrollAgent('web-1');
  });
  after(async () => m.close());

  it('a keep-alive says what the manager holds and what it understands', async () => {
    const reply = await m.app.inject({ method: 'POST', url: '/v1/keepalive', headers: agent.headers, payload: { seq: 0, pending: 0 } });
    assert.equal(reply.statusCode, 200);
    assert.deepEqual(reply.json(), { ok: true, ack: 0, continuity: true, inodeAttributes: true });
  });

  it('a keep-alive body that does not decode is ignored, not refused (the agent learns it is heard)', async () => {
    const reply = await m.app.inject({ method: 'POST', url: '/v1/keepalive', headers: agent.headers, payload: { seq: 'many', pending: -1 } });
    assert.equal(reply.statusCode, 200);
    assert.equal(reply.json<{ ok: boolean }>().ok, true);
  });

  it('an agent numbering behind what was applied is told stateLost, and rule 569 is raised once', async () => {
    const applied = await m.app.inject({
      method: 'POST',
      url: '/v1/batches',
      headers: agent.headers,
      payload: { agentId: agent.id, seq: 1, observations: [] },
    });
    assert.equal(applied.statusCode, 200, applied.body);
    for (let i = 0; i < 2; i++) {
      const reply = await m.app.inject({ method: 'POST', url: '/v1/keepalive', headers: agent.headers, payload: { seq: 0 } });
      assert.equal(reply.json<{ stateLost?: boolean }>().stateLost, true);
    }
    assert.equal(m.alerts.filter((a) => a.rule.id === '569').length, 1);
  });

  it('config: 204 when the manager serves none, then the default file and its version', async () => {
    assert.equal((await m.app.inject({ method: 'GET', url: '/v1/config', headers: agent.headers })).statusCode, 204);
    mkdirSync(join(m.dataDir, 'shared'), { recursive: true });
    writeFileSync(join(m.dataDir, 'shared', 'default.yml'), 'syscheck:\n  frequency: 1h\n');
    const reply = await m.app.inject({ method: 'GET', url: '/v1/config', headers: agent.headers });
    assert.equal(reply.statusCode, 200);
    const body = reply.json<{ yaml: string; version: string }>();
    assert.equal(body.yaml, 'syscheck:\n  frequency: 1h\n');
    assert.match(body.version, /^[0-9a-f]{64}$/);
  });
});
