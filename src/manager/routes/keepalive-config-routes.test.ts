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
    assert.deepEqual(reply.json(), { ok: true, ack: 0, continuity: true, inodeAttributes: true, footprint: true });
  });

  it("a keep-alive's footprint shows in /metrics per agent: memory, threads and scan throttle; a limit not set has no sample", async () => {
    const other = await m.enrollAgent('db "primary"\\x');
    const footprint = (rssBytes: number, throttle: Record<string, unknown>): Record<string, unknown> => ({
      rssBytes,
      threads: 11,
      throttle: { processPriority: 10, ioClass: 'best-effort', ioLevel: 7, maxEps: 0, ...throttle },
    });
    for (const [who, body] of [
      [agent, { seq: 0, footprint: footprint(48_234_496, { cpuSharePercent: 25 }) }],
      [other, { footprint: footprint(41_000_000, { processPriority: 19, ioClass: 'idle', ioLevel: 0, filesPerSecond: 500, maxEps: 100 }) }],
    ] as const) {
      const reply = await m.app.inject({ method: 'POST', url: '/v1/keepalive', headers: who.headers, payload: body });
      assert.equal(reply.statusCode, 200, reply.body);
    }
    const metrics = (await m.app.inject({ method: 'GET', url: '/metrics' })).body;
    const web = `agent_id="${agent.id}",agent_name="web-1"`;
    // The name's quote and backslash escaped, as Prometheus's text format requires.
    const db = `agent_id="${other.id}",agent_name="db \\"primary\\"\\\\x"`;
    for (const line of [
      `custos_agent_resident_bytes{${web}} 48234496`,
      `custos_agent_threads{${web}} 11`,
      `custos_agent_scan_nice{${web}} 10`,
      `custos_agent_scan_io_idle{${web}} 0`,
      `custos_agent_scan_io_level{${web}} 7`,
      `custos_agent_scan_cpu_share_limit_percent{${web}} 25`,
      `custos_agent_max_eps{${web}} 0`,
      `custos_agent_resident_bytes{${db}} 41000000`,
      `custos_agent_scan_nice{${db}} 19`,
      `custos_agent_scan_io_idle{${db}} 1`,
      `custos_agent_scan_files_per_second_limit{${db}} 500`,
      `custos_agent_max_eps{${db}} 100`,
    ]) {
      assert.ok(metrics.split('\n').includes(line), `${line} in\n${metrics}`);
    }
    assert.doesNotMatch(metrics, new RegExp(`custos_agent_scan_files_per_second_limit\\{${web.replace(/[()"]/g, '.')}`), 'no limit: no sample');
    assert.doesNotMatch(metrics, /custos_agent_scan_io_level\{agent_id="[^"]*",agent_name="db /, 'the idle class has no level');
    assert.equal(metrics.match(/^# TYPE custos_agent_resident_bytes gauge$/gm)?.length, 1, 'one family, a sample per agent');

    // A footprint that does not decode is ignored with the rest of the body: the last good one stays.
    const bad = await m.app.inject({ method: 'POST', url: '/v1/keepalive', headers: agent.headers, payload: { footprint: { rssBytes: -1, threads: 1 } } });
    assert.equal(bad.statusCode, 200);
    assert.ok((await m.app.inject({ method: 'GET', url: '/metrics' })).body.includes(`custos_agent_resident_bytes{${web}} 48234496`));
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
