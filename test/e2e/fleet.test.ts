import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAgentIdentity } from '../../src/agent/enroll-agent.js';
import { callManager } from '../../src/agent/manager-client.js';
import type { AnyAlert } from '../../src/core/build-alert.js';
import { readAlertsFile } from '../support/alerts.js';
import { CustosService, eventually } from '../support/custos-service.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Fleet mode end to end: a real manager and real agents, each its own `custos` process, over loopback with real
 * TLS (the manager's own CA, client certificates from enrollment). Nothing is mocked.
 */

interface ManagerHandle {
  service: CustosService;
  port: number;
  url: string;
}

const dir = tempDir('custos-fleet-');
const managerData = join(dir, 'manager');
mkdirSync(managerData);
writeFileSync(join(managerData, 'custos.yml'), 'manager:\n  listen: 127.0.0.1:0\n  silent_after: 3s\n');

async function startManager(port = 0): Promise<ManagerHandle> {
  const service = new CustosService(['manager', 'start', '--data', managerData, '--listen', `127.0.0.1:${port}`]);
  const ready = await service.waitForMessage('manager listening', 30_000);
  const bound = ready.port as number;
  return { service, port: bound, url: `https://127.0.0.1:${bound}` };
}

async function newToken(ttl?: string): Promise<string> {
  const run = await runCustos(['manager', 'token', '--data', managerData, ...(ttl === undefined ? [] : ['--ttl', ttl])]);
  assert.equal(run.code, 0, run.stderr);
  return run.stdout.trim();
}

async function enroll(
  manager: ManagerHandle,
  name: string,
  token: string,
  extra: readonly string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string; data: string }> {
  const data = join(dir, `agent-${name}`);
  // Every test agent runs on this one host: each gets a machine id of its own, as separate hosts would have.
  const machineIdFile = join(dir, `machine-id-${name}`);
  writeFileSync(machineIdFile, `${randomBytes(16).toString('hex')}\n`);
  const run = await runCustos(['agent', 'enroll', '--manager', manager.url, '--token', token, '--data', data, '--name', name, ...extra], {
    env: { CUSTOS_MACHINE_ID_FILE: machineIdFile },
  });
  return { ...run, data };
}

/** The alerts the manager wrote to DATA/alerts.json so far. */
function managerAlerts(): AnyAlert[] {
  // The manager may be appending as the test reads: a torn last line is skipped, not a parse error.
  return readAlertsFile(join(managerData, 'alerts.json'));
}

function fileAlerts(agentId: string): { rule: number; event: string; path: string }[] {
  return managerAlerts().flatMap((a) =>
    'syscheck' in a && a.agent.id === agentId ? [{ rule: Number(a.rule.id), event: a.syscheck.event, path: a.syscheck.path }] : [],
  );
}

/** An agent watching `tree` in realtime (and scanning it hourly), keep-alive every second. */
function startAgent(data: string, tree: string): CustosService {
  const config = join(data, 'custos.yml');
  writeFileSync(config, `syscheck:\n  frequency: 1h\n  directories:\n    - path: ${tree}\n      realtime: yes\n`);
  return new CustosService(['agent', 'start', '--data', data, '--config', config, '--keepalive', '1s']);
}

/** Waits until the agent has delivered everything it queued after log line `from`. */
function delivered(agent: CustosService, from: number, timeoutMs = 30_000): Promise<unknown> {
  return agent.waitForMessage('outbox delivered', timeoutMs, from);
}

describe('fleet mode: a manager and agents over mutual TLS', { timeout: 240_000 }, () => {
  let manager: ManagerHandle;
  let agentA: { id: string; data: string; tree: string; service?: CustosService };
  let agentB: { id: string; data: string };

  before(async () => {
    manager = await startManager();
  });
  after(async () => {
    await agentA?.service?.kill();
    await manager?.service.kill();
  });

  it('keeps Bloom filters and a digest index of its SQLite known-hash database, built beside it while it listens', async () => {
    await manager.service.waitForMessage('known-hash filters and digest index saved', 60_000, 0);
    for (const suffix of ['.bloom', '.bad.bloom', '.bloom.log', '.digests', '.digests.log']) {
      assert.ok(existsSync(join(managerData, `hashdb.sqlite${suffix}`)), `hashdb.sqlite${suffix}`);
    }
  });

  it('enrolls an agent with a single-use token, and refuses a reused, a bad and an expired token', async () => {
    const token = await newToken();
    assert.match(token, /^cst1\.[0-9a-f]+\.[A-Za-z0-9_-]+\.[0-9a-f]{64}$/);
    const a = await enroll(manager, 'web-1', token);
    assert.equal(a.code, 0, a.stderr);
    const id = /enrolled as agent (\d+)/.exec(a.stdout)?.[1];
    assert.ok(id !== undefined, a.stdout);
    agentA = { id, data: a.data, tree: join(dir, 'tree-a') };
    assert.equal(readFileSync(join(a.data, 'agent.key'), 'utf8').includes('PRIVATE KEY'), true);

    const reused = await enroll(manager, 'web-2', token);
    assert.notEqual(reused.code, 0);
    assert.match(reused.stderr, /the manager refused the enrollment: enrollment token used/);
    await manager.service.waitForMessage('refused an enrollment: used token');

    const parts = token.split('.');
    const forged = [parts[0], parts[1], randomBytes(24).toString('base64url'), parts[3]].join('.');
    const bad = await enroll(manager, 'web-3', forged);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid enrollment token/);
    await manager.service.waitForMessage('refused an enrollment: bad token');

    const short = await newToken('1s');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const expired = await enroll(manager, 'web-4', short);
    assert.notEqual(expired.code, 0);
    assert.match(expired.stderr, /enrollment token expired/);
    await manager.service.waitForMessage('refused an enrollment: expired token');

    // The refusals logged why, and never the token's secret.
    const log = JSON.stringify(manager.service.lines);
    assert.equal(log.includes(parts[2] ?? '?'), false);
    assert.equal(manager.service.running, true);
  });

  it('refuses garbage bytes and plain HTTP on the TLS port with a log line, and keeps serving', async () => {
    const from = manager.service.lines.length;
    for (const payload of [randomBytes(4096), Buffer.from('GET /v1/ca HTTP/1.1\r\nHost: x\r\n\r\n')]) {
      await new Promise<void>((resolve, reject) => {
        const socket = connect(manager.port, '127.0.0.1', () => socket.end(payload));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.setTimeout(10_000, () => reject(new Error('the manager kept a garbage connection open')));
        socket.resume();
      });
    }
    const refusal = await manager.service.waitForMessage('refused a connection that failed the TLS handshake', 10_000, from);
    assert.equal(typeof refusal.reason, 'string');
    const health = await callManager({ url: manager.url, ca: readFileSync(join(managerData, 'pki', 'ca.crt'), 'utf8') }, 'GET', '/healthz');
    assert.equal(health.status, 200);
    assert.equal(manager.service.running, true);
  });

  it('builds the baseline, then alerts on the manager on a realtime change, long before any scheduled scan', async () => {
    mkdirSync(agentA.tree);
    writeFileSync(join(agentA.tree, 'index.php'), '<?php echo "hello";\n');
    writeFileSync(join(agentA.tree, 'doomed.txt'), 'bye\n');
    agentA.service = startAgent(agentA.data, agentA.tree);
    await agentA.service.waitForMessage('watching in realtime');
    await delivered(agentA.service, 0);
    assert.deepEqual(fileAlerts(agentA.id), [], 'the first scan builds the baseline without alerts');

    const changes: [string, () => void, string, number][] = [
      ['modified', () => writeFileSync(join(agentA.tree, 'index.php'), '<?php system($_GET["c"]);\n'), join(agentA.tree, 'index.php'), 550],
      ['added', () => writeFileSync(join(agentA.tree, 'shell.php'), '<?php eval($_POST["x"]);\n'), join(agentA.tree, 'shell.php'), 554],
      ['deleted', () => unlinkSync(join(agentA.tree, 'doomed.txt')), join(agentA.tree, 'doomed.txt'), 553],
    ];
    for (const [event, change, path, rule] of changes) {
      change();
      // Realtime, not the next scheduled scan (hours away): the alert arrives within the wait. How fast is the
      // bench's business (its fleet section), not this test's.
      const alert = await eventually(() => fileAlerts(agentA.id).find((a) => a.path === path && a.event === event), 5000, `the ${event} alert`);
      assert.equal(alert.rule, rule);
    }
    const listed = await runCustos(['alerts', '--data', managerData, '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(
      jsonLines<AnyAlert>(listed.stdout)
        .flatMap((a) => ('syscheck' in a ? [Number(a.rule.id)] : []))
        .sort(),
      [550, 553, 554],
    );
  });

  it('gives back what realtime changes needed once realtime is quiet for a keep-alive, and alerts on the next change', async () => {
    const agent = agentA.service;
    assert.ok(agent !== undefined);
    const from = agent.lines.length;
    const file = join(agentA.tree, 'release.php');
    const alerted = (event: string): { rule: number } | undefined => fileAlerts(agentA.id).find((a) => a.path === file && a.event === event);
    writeFileSync(file, '<?php echo "one";\n');
    assert.equal((await eventually(() => alerted('added'), 5000, 'the added alert')).rule, 554);
    // The change started a hashing thread again; a keep-alive (every second here) after a quiet one gives it back.
    // (The previous test's changes may have had their own release since `from`: count from this change's scan on.)
    const scanned = agent.lines.findLastIndex((l, i) => i >= from && l.msg === 'realtime changes scanned');
    assert.ok(scanned >= 0, 'the change was scanned in realtime');
    const released = await agent.waitForMessage('realtime memory released', 10_000, scanned);
    assert.equal(typeof released.rssAfterMb, 'number');
    // Three more keep-alives with nothing new: no further release (once per quiet spell, not at every keep-alive).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    assert.equal(agent.lines.filter((l, i) => i >= scanned && l.msg === 'realtime memory released').length, 1);
    // What it gave back (the thread, code pages) comes back on demand: the next change alerts as before.
    writeFileSync(file, '<?php system($_GET["c"]);\n');
    assert.equal((await eventually(() => alerted('modified'), 5000, 'the modified alert after the release')).rule, 550);
  });

  it('survives kill -9 of the manager mid-batch: every change arrives, none twice', async () => {
    const agent = agentA.service;
    assert.ok(agent !== undefined);
    const burst = join(agentA.tree, 'burst');
    mkdirSync(burst);
    const from = agent.lines.length;
    for (let i = 0; i < 3000; i++) writeFileSync(join(burst, `f${String(i).padStart(4, '0')}`), `file ${i}\n`);
    // Kill the manager as soon as it has applied some of the burst, but not all of it.
    await eventually(
      () => (fileAlerts(agentA.id).filter((a) => a.path.startsWith(`${burst}/`)).length > 0 ? true : undefined),
      30_000,
      'the first burst batch',
    );
    await manager.service.kill('SIGKILL');
    const applied = fileAlerts(agentA.id).filter((a) => a.path.startsWith(`${burst}/`)).length;
    assert.ok(applied < 3000, `the manager had already applied all ${applied} of the burst`);

    // While the manager is down (and the agent has scanned the burst): the agent keeps changes in its outbox.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    writeFileSync(join(burst, 'f0000'), 'changed while the manager was down\n');
    writeFileSync(join(agentA.tree, 'late.txt'), 'added while the manager was down\n');
    await agent.waitForMessage('manager unreachable; keeping the outbox', 20_000, from);

    manager = await startManager(manager.port);
    await delivered(agent, agent.lines.length, 60_000);
    await eventually(() => (fileAlerts(agentA.id).some((a) => a.path === join(agentA.tree, 'late.txt')) ? true : undefined), 30_000, 'the late change');

    const counts = new Map<string, number>();
    for (const a of fileAlerts(agentA.id)) counts.set(`${a.event} ${a.path}`, (counts.get(`${a.event} ${a.path}`) ?? 0) + 1);
    const missing = Array.from({ length: 3000 }, (_, i) => `added ${join(burst, `f${String(i).padStart(4, '0')}`)}`).filter((key) => !counts.has(key));
    assert.deepEqual(missing, [], 'every burst file arrived');
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'no change was applied twice',
    );
    assert.equal(counts.get(`modified ${join(burst, 'f0000')}`), 1);
    assert.equal(counts.get(`added ${join(agentA.tree, 'late.txt')}`), 1);

    const events = jsonLines<{ syscheck: { path: string; event: string } }>((await runCustos(['events', '--data', managerData, '--json'])).stdout);
    const history = events.filter((e) => e.syscheck.path.startsWith(`${burst}/`) && e.syscheck.event === 'added');
    assert.equal(history.length, 3000, 'the history holds each burst file once');
    assert.equal(events.filter((e) => e.syscheck.path === burst).length, 1, 'and the new directory once (recorded, not alerted)');
    const verify = await runCustos(['verify', '--data', managerData]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  });

  it("a second agent cannot write to the first agent's baseline, and a replayed or forged batch is refused", async () => {
    const b = await enroll(manager, 'db-1', await newToken());
    assert.equal(b.code, 0, b.stderr);
    agentB = { id: /enrolled as agent (\d+)/.exec(b.stdout)?.[1] ?? '?', data: b.data };
    assert.notEqual(agentB.id, agentA.id);
    const target = join(agentA.tree, 'index.php');
    // A deletion of agent A's index.php: a state-less observation.
    const deletion = { p: Buffer.from(target).toString('base64'), c: 511 };
    const asB = loadAgentIdentity(agentB.data).endpoint;
    const from = manager.service.lines.length;
    const crossed = await callManager(asB, 'POST', '/v1/batches', { agentId: agentA.id, seq: 999, observations: [deletion] });
    assert.equal(crossed.status, 403);
    assert.match(crossed.text, new RegExp(`batch for agent ${agentA.id} sent with the credentials of agent ${agentB.id}`));
    await manager.service.waitForMessage('refused a batch', 5000, from);

    const asA = loadAgentIdentity(agentA.data).endpoint;
    const replay = await callManager(asA, 'POST', '/v1/batches', { agentId: agentA.id, seq: 1, observations: [deletion] });
    assert.equal(replay.status, 409);
    await manager.service.waitForMessage('refused a replayed batch', 5000, from);

    // A certificate the manager's CA did not sign, claiming to be agent A.
    const keyFile = join(dir, 'forged.key');
    const certFile = join(dir, 'forged.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        `/CN=${agentA.id}`,
      ],
      { stdio: 'ignore' },
    );
    const forged = await callManager({ ...asA, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') }, 'POST', '/v1/batches', {
      agentId: agentA.id,
      seq: 1_000_000,
      observations: [deletion],
    });
    assert.equal(forged.status, 401);
    await manager.service.waitForLog((l) => l.msg === 'refused an agent request' && l.reason === 'no valid client certificate', 5000, from);

    // None of it touched agent A's baseline: the deletion was never recorded.
    assert.equal(fileAlerts(agentA.id).filter((a) => a.path === target && a.event === 'deleted').length, 0);
    assert.equal(manager.service.running, true);
  });

  it('raises "agent silent" when an agent is killed, and "agent back" plus the changes made meanwhile when it returns', async () => {
    const agent = agentA.service;
    assert.ok(agent !== undefined);
    await agent.kill('SIGKILL');
    const silent = await eventually(() => managerAlerts().find((a) => a.rule.id === '563' && a.agent.id === agentA.id), 15_000, 'the agent-silent alert');
    assert.equal(silent.rule.level >= 7, true);
    writeFileSync(join(agentA.tree, 'index.php'), 'changed while the agent was stopped\n');
    rmSync(join(agentA.tree, 'late.txt'));
    agentA.service = startAgent(agentA.data, agentA.tree);
    await eventually(() => managerAlerts().find((a) => a.rule.id === '566' && a.agent.id === agentA.id), 15_000, 'the agent-back alert');
    await eventually(
      () => (fileAlerts(agentA.id).filter((a) => a.path === join(agentA.tree, 'index.php') && a.event === 'modified').length === 2 ? true : undefined),
      30_000,
      'the offline modification',
    );
    await eventually(
      () => fileAlerts(agentA.id).find((a) => a.path === join(agentA.tree, 'late.txt') && a.event === 'deleted'),
      30_000,
      'the offline deletion',
    );
    const agents = await runCustos(['manager', 'agents', '--data', managerData, '--json']);
    const listed = jsonLines<{ id: string; status: string }>(agents.stdout);
    assert.equal(listed.find((a) => a.id === agentA.id)?.status, 'active');
  });

  it("serves a group's central configuration, and the agent follows it when it changes", async () => {
    const c = await enroll(manager, 'web-9', await newToken(), ['--group', 'web']);
    assert.equal(c.code, 0, c.stderr);
    const id = /enrolled as agent (\d+)/.exec(c.stdout)?.[1] ?? '?';
    const local = join(dir, 'tree-c-local');
    const central = join(dir, 'tree-c-central');
    const second = join(dir, 'tree-c-second');
    for (const d of [local, central, second]) mkdirSync(d);
    mkdirSync(join(managerData, 'shared', 'groups'), { recursive: true });
    writeFileSync(join(managerData, 'shared', 'groups', 'web.yml'), `syscheck:\n  directories:\n    - path: ${central}\n      realtime: yes\n`);
    const agent = startAgent(c.data, local);
    try {
      await agent.waitForMessage('using the configuration the manager serves');
      const watching = await agent.waitForMessage('watching in realtime');
      assert.deepEqual(watching.dirs, [central]);
      await delivered(agent, 0);
      writeFileSync(join(local, 'ignored.txt'), 'not monitored: the central configuration replaced the local one\n');
      writeFileSync(join(central, 'app.conf'), 'monitored\n');
      await eventually(() => fileAlerts(id).find((a) => a.path === join(central, 'app.conf')), 10_000, 'the alert from the centrally configured directory');

      // Edit the group's configuration on the manager: the agent picks it up at its next keep-alive.
      const from = agent.lines.length;
      writeFileSync(join(managerData, 'shared', 'groups', 'web.yml'), `syscheck:\n  directories:\n    - path: ${second}\n      realtime: yes\n`);
      const rewatch = await agent.waitForLog((l) => l.msg === 'watching in realtime', 15_000, from);
      assert.deepEqual(rewatch.dirs, [second]);
      // The new directory's first scan builds its baseline silently; changes after it alert.
      const finished = await agent.waitForLog((l) => l.msg === 'scan finished', 15_000, from);
      await delivered(agent, agent.lines.indexOf(finished));
      writeFileSync(join(second, 'new.conf'), 'monitored now\n');
      await eventually(() => fileAlerts(id).find((a) => a.path === join(second, 'new.conf')), 10_000, 'the alert from the newly configured directory');
      assert.equal(
        fileAlerts(id).some((a) => a.path.startsWith(local)),
        false,
      );
    } finally {
      await agent.kill();
    }
  });

  it('a revoked agent is refused from then on', async () => {
    const revoke = await runCustos(['manager', 'revoke', '--data', managerData, agentB.id]);
    assert.equal(revoke.code, 0, revoke.stderr);
    const reply = await callManager(loadAgentIdentity(agentB.data).endpoint, 'POST', '/v1/keepalive', {});
    assert.equal(reply.status, 401);
    assert.match(reply.text, /was revoked/);
  });
});

describe("manager commands run by root on the service user's data directory", () => {
  it("act as that user, so every file they create stays the manager's", async () => {
    const parent = tempDir('custos-owned-');
    chmodSync(parent, 0o755);
    const data = join(parent, 'manager');
    mkdirSync(data);
    chownSync(data, 65534, 65534);
    const run = await runCustos(['manager', 'token', '--data', data]);
    assert.equal(run.code, 0, run.stderr);
    const created = readdirSync(data, { recursive: true }).map(String);
    assert.ok(created.includes('custos.db') && created.includes(join('pki', 'ca.key')), created.join(' '));
    for (const name of created) assert.equal(statSync(join(data, name)).uid, 65534, `${name} is owned by ${statSync(join(data, name)).uid}`);
  });
});
