import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { callManager } from '../../src/agent/manager-client.js';
import { eventually, type CustosService } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/** Resident memory of a process, in MB, from /proc. */
function rssMb(pid: number): number {
  const line = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(line?.[1] ?? 0) / 1024;
}

/**
 * POSTs a body of `bytes` to the manager without a client certificate, writing it as fast as the manager takes
 * it. Resolves with the status the manager answered, or `cut` when it closed the connection first.
 */
function unauthenticatedPost(url: string, ca: string, path: string, bytes: number): Promise<number | 'cut'> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const req = request({
      host: target.hostname,
      port: target.port,
      method: 'POST',
      path,
      ca,
      headers: { 'content-type': 'application/json', 'content-length': bytes },
    });
    let settled = false;
    const done = (outcome: number | 'cut'): void => {
      if (settled) return;
      settled = true;
      req.destroy();
      resolve(outcome);
    };
    req.on('response', (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', (error) => {
      if (process.env.CUSTOS_TEST_DEBUG === '1') console.error(error);
      done('cut');
    });
    const chunk = Buffer.alloc(1 << 20, 'a');
    chunk.write('{"agentId":"001","seq":1,"observations":[],"x":"');
    let sent = 0;
    const pump = (): void => {
      while (!settled && sent < bytes) {
        const n = Math.min(chunk.length, bytes - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!settled && sent >= bytes) req.end();
    };
    pump();
  });
}

describe('unauthenticated 30 MB bodies while a real agent keeps working (issue 11, case 8)', { timeout: 240_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-flood-'));
  let manager: ManagerHandle | undefined;
  let agent: CustosService | undefined;
  after(async () => {
    await agent?.kill();
    await manager?.service.kill();
  });

  it('refuses each before reading it, keeps the manager’s memory flat and the agent’s changes flowing', async () => {
    manager = await fleet.startManager();
    const tree = join(fleet.dir, 'tree');
    mkdirSync(tree);
    writeFileSync(join(tree, 'index.php'), 'hello\n');
    const data = join(fleet.dir, 'agent');
    const enrolled = await fleet.enroll(manager, 'web1', data, ['--name', 'web1']);
    assert.ok(enrolled.id !== undefined, enrolled.stderr);
    agent = fleet.startAgent(data, [tree]);
    await delivered(agent, 0);
    const pid = manager.service.pid ?? 0;
    const before = rssMb(pid);

    let peak = before;
    let attacking = true;
    const sampler = (async () => {
      while (attacking) {
        peak = Math.max(peak, rssMb(pid));
        await sleep(50);
      }
    })();
    const ca = readFileSync(join(fleet.managerData, 'pki', 'ca.crt'), 'utf8');
    const flood = Promise.all(Array.from({ length: 60 }, () => unauthenticatedPost(manager?.url ?? '', ca, '/v1/batches', 31 << 20)));
    // While the flood runs, the agent's change still reaches the manager and alerts.
    const from = agent.lines.length;
    writeFileSync(join(tree, 'shell.php'), '<?php eval($_POST["x"]);\n');
    await delivered(agent, from, 120_000);
    const outcomes = await flood;
    attacking = false;
    await sampler;
    await eventually(() => fleet.fileAlerts(enrolled.id ?? '').some((a) => a.path === join(tree, 'shell.php')) || undefined, 30_000, 'the alert for shell.php');
    assert.ok(
      outcomes.every((o) => o === 401 || o === 'cut'),
      outcomes.join(),
    );
    if (process.env.CUSTOS_TEST_DEBUG === '1') console.error(`manager RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB peak`);
    assert.ok(peak - before < 200, `manager RSS went from ${before.toFixed(0)} MB to ${peak.toFixed(0)} MB under the flood`);
    assert.equal(manager.service.running, true);
    // Each was refused on its headers (the client mostly sees the connection closed under its write: EPIPE).
    // (Its log lines come through a pipe: wait for all of them.)
    const refusedUnread = (): number => manager?.service.lines.filter((l) => l.msg === 'refused an agent request' && l.body === 'not read').length ?? 0;
    await eventually(
      () => refusedUnread() === 60 || undefined,
      20_000,
      () => `60 refusals logged (${refusedUnread()} so far)`,
    );
  });
});

describe('an enrollment with a valid token and a malformed request (issue 11, case 10)', { timeout: 120_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-badcsr-'));
  let manager: ManagerHandle | undefined;
  after(async () => {
    await manager?.service.kill();
  });

  it('is refused with 400, keeps the token unused and leaves no agent behind', async () => {
    manager = await fleet.startManager();
    const token = await fleet.token();
    const ca = readFileSync(join(fleet.managerData, 'pki', 'ca.crt'), 'utf8');
    const csr = `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(200)}\n-----END CERTIFICATE REQUEST-----\n`;
    const reply = await callManager({ url: manager.url, ca }, 'POST', '/v1/enroll', { token, name: 'phantom', csr });
    assert.equal(reply.status, 400, reply.text);
    assert.match(reply.text, /the certificate request does not verify/);
    const agents = await runCustos(['manager', 'agents', '--data', fleet.managerData, '--json']);
    assert.equal(agents.stdout.trim(), '', 'no agent was registered');
    // The same token still enrols a real agent.
    const run = await runCustos(['agent', 'enroll', '--manager', manager.url, '--token', token, '--data', join(fleet.dir, 'agent'), '--name', 'real'], {
      env: { CUSTOS_MACHINE_ID_FILE: fleet.machineIdFile('real') },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /enrolled as agent 001/);
  });
});

describe('agent enroll run again on an enrolled data directory (issue 11, case 10)', { timeout: 120_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-reenroll-'));
  let manager: ManagerHandle | undefined;
  after(async () => {
    await manager?.service.kill();
  });

  it('keeps the working key when the manager refuses the token, so the agent still talks to its manager', async () => {
    manager = await fleet.startManager();
    const data = join(fleet.dir, 'agent');
    const first = await fleet.enroll(manager, 'web1', data, ['--name', 'web1']);
    assert.equal(first.code, 0, first.stderr);
    const key = readFileSync(join(data, 'agent.key'), 'utf8');
    // A token already used (by another host): the manager refuses it.
    const used = await fleet.token();
    const other = await runCustos(['agent', 'enroll', '--manager', manager.url, '--token', used, '--data', join(fleet.dir, 'other'), '--name', 'db1'], {
      env: { CUSTOS_MACHINE_ID_FILE: fleet.machineIdFile('db1') },
    });
    assert.equal(other.code, 0, other.stderr);
    const refused = await runCustos(['agent', 'enroll', '--manager', manager.url, '--token', used, '--data', data, '--name', 'web1'], {
      env: { CUSTOS_MACHINE_ID_FILE: fleet.machineIdFile('web1') },
    });
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stderr, /the manager refused the enrollment/);
    assert.equal(readFileSync(join(data, 'agent.key'), 'utf8'), key, 'the working key is untouched');
    const endpoint = { url: manager.url, ca: readFileSync(join(data, 'ca.crt'), 'utf8'), cert: readFileSync(join(data, 'agent.crt'), 'utf8'), key };
    assert.equal((await callManager(endpoint, 'POST', '/v1/keepalive', {})).status, 200);
  });
});
