import assert from 'node:assert/strict';
import { mkdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadAgentIdentity } from '../../src/agent/enroll-agent.js';
import { callManager } from '../../src/agent/manager-client.js';
import { eventually, type CustosService } from '../support/custos-service.js';
import { delivered, FleetHarness, scanDelivered, type ManagerHandle } from '../support/fleet-harness.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * Fleet continuity end to end, with a real manager and real agents over loopback TLS: no window in which an
 * agent's changes go unseen when its state is lost, it is enrolled again, renamed or revoked, or its central
 * configuration changes.
 */

const fleet = new FleetHarness(tempDir('custos-continuity-'));
const running = new Set<CustosService>();

function track(service: CustosService): CustosService {
  running.add(service);
  return service;
}

async function stop(service: CustosService | undefined): Promise<void> {
  if (service === undefined) return;
  await service.kill();
  running.delete(service);
}

/** Makes a directory holding `files` (name -> content). */
function tree(name: string, files: Record<string, string>): string {
  const root = join(fleet.dir, name);
  mkdirSync(root, { recursive: true });
  for (const [file, content] of Object.entries(files)) writeFileSync(join(root, file), content);
  return root;
}

function hasAlert(agentId: string, path: string, event: string): boolean {
  return fleet.fileAlerts(agentId).some((a) => a.path === path && a.event === event);
}

/** Waits until every (path, event) pair has alerted for the agent. */
async function alerted(agentId: string, expected: readonly [string, string][], timeoutMs: number): Promise<void> {
  await eventually(
    () => (expected.every(([path, event]) => hasAlert(agentId, path, event)) ? true : undefined),
    timeoutMs,
    () => `alerts ${JSON.stringify(expected.filter(([path, event]) => !hasAlert(agentId, path, event)))} (got ${JSON.stringify(fleet.fileAlerts(agentId))})`,
  );
}

function removeStateDatabase(data: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(data, `agent.db${suffix}`), { force: true });
}

describe('fleet continuity: no window in which changes go unseen', { timeout: 600_000 }, () => {
  let manager: ManagerHandle;

  before(async () => {
    manager = await fleet.startManager();
  });
  after(async () => {
    for (const service of running) await service.kill();
    await manager?.service.kill();
  });

  it('an agent whose state database was deleted is caught up: offline and realtime changes alert within a minute, with "agent state lost"', async (t) => {
    const files = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}.conf`, `original ${i}\n`]));
    const root = tree('state-lost', files);
    const data = join(fleet.dir, 'agent-state');
    const enrolled = await fleet.enroll(manager, 'state-host', data, ['--name', 'state-1']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const id = enrolled.id ?? '?';
    let agent = track(fleet.startAgent(data, [root]));
    await delivered(agent, 0);
    // A few realtime batches, so the manager's numbering is well ahead of a fresh state's.
    for (let i = 0; i < 3; i++) {
      writeFileSync(join(root, `f${i}.conf`), `changed online ${i}\n`);
      await alerted(id, [[join(root, `f${i}.conf`), 'modified']], 30_000);
    }
    await stop(agent);

    removeStateDatabase(data);
    // Two changes while the agent is down.
    writeFileSync(join(root, 'f5.conf'), 'changed offline\n');
    writeFileSync(join(root, 'offline-new.conf'), 'added offline\n');

    agent = track(fleet.startAgent(data, [root]));
    const restarted = Date.now();
    await agent.waitForMessage('watching in realtime', 30_000);
    // Ten changes right after the restart, while the agent still believes it starts afresh.
    for (let i = 0; i < 10; i++) writeFileSync(join(root, i < 5 ? `f${i + 6}.conf` : `realtime-new-${i}.conf`), `realtime ${i}\n`);
    const expected: [string, string][] = [
      [join(root, 'f5.conf'), 'modified'],
      [join(root, 'offline-new.conf'), 'added'],
      ...Array.from({ length: 10 }, (_, i): [string, string] =>
        i < 5 ? [join(root, `f${i + 6}.conf`), 'modified'] : [join(root, `realtime-new-${i}.conf`), 'added'],
      ),
    ];
    await alerted(id, expected, 60_000);
    const lost = await eventually(() => fleet.agentAlerts(id).find((a) => a.rule.id === '569'), 60_000, 'the agent-state-lost alert');
    assert.ok(lost.rule.level >= 10);
    assert.match(lost.full_log, /state was lost or rolled back/);
    const latency = Date.now() - restarted;
    assert.ok(latency < 60_000, `the changes took ${latency} ms to alert after the restart`);
    t.diagnostic(`all 12 changes and the state-lost alert within ${latency} ms of the restart`);
    await agent.waitForMessage(/state lost or rolled back/, 10_000);

    // Caught up, nothing invented: no file that exists is reported deleted, and every change alerted once.
    await scanDelivered(agent, 0);
    const mine = fleet.fileAlerts(id);
    assert.deepEqual(
      mine.filter((a) => a.event === 'deleted'),
      [],
    );
    for (const [path, event] of expected) assert.equal(mine.filter((a) => a.path === path && a.event === event).length, 1, `${event} ${path} alerted once`);
    assert.equal(fleet.agentAlerts(id).filter((a) => a.rule.id === '569').length, 1, 'one state-lost alert');
    assert.deepEqual(
      fleet.agentAlerts(id).filter((a) => a.rule.id === '564'),
      [],
      'the resync leaves agent and manager in agreement',
    );

    // And it keeps working: a change after the resync alerts once more.
    writeFileSync(join(root, 'f11.conf'), 'after the resync\n');
    await alerted(id, [[join(root, 'f11.conf'), 'modified']], 30_000);
    await stop(agent);
  });

  it('a host whose data directory was deleted and enrolled again with --replace keeps its identity: changes made in the gap alert', async () => {
    const root = tree('replaced', { 'keep.conf': 'keep\n', 'edit.conf': 'before\n', 'gone.conf': 'bye\n' });
    const data = join(fleet.dir, 'agent-replaced');
    const first = await fleet.enroll(manager, 'host-r1', data, ['--name', 'web-r']);
    assert.equal(first.code, 0, first.stderr);
    const id = first.id ?? '?';
    let agent = track(fleet.startAgent(data, [root]));
    await delivered(agent, 0);
    await stop(agent);

    rmSync(data, { recursive: true });
    writeFileSync(join(root, 'edit.conf'), 'changed in the gap\n');
    writeFileSync(join(root, 'planted.conf'), 'added in the gap\n');
    unlinkSync(join(root, 'gone.conf'));

    // The reinstalled host (a new machine id) without --replace: its name is taken, so it is refused and told how.
    const refused = await fleet.enroll(manager, 'host-r2', data, ['--name', 'web-r']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, new RegExp(`an agent named web-r is already enrolled \\(agent ${id}\\): use --replace ${id}`));

    const again = await fleet.enroll(manager, 'host-r2', data, ['--name', 'web-r', '--replace', id]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.id, id, 'the same agent id');
    assert.match(again.stdout, /keeps its baseline/);
    agent = track(fleet.startAgent(data, [root]));
    await alerted(
      id,
      [
        [join(root, 'edit.conf'), 'modified'],
        [join(root, 'planted.conf'), 'added'],
        [join(root, 'gone.conf'), 'deleted'],
      ],
      60_000,
    );
    await scanDelivered(agent, 0);
    assert.equal(fleet.agentAlerts(id).filter((a) => a.rule.id === '569').length, 0, 'a re-enrolment is not a lost state');
    assert.deepEqual(
      fleet.agentAlerts(id).filter((a) => a.rule.id === '564'),
      [],
      'and agent and manager agree after it',
    );
    assert.equal(fleet.fileAlerts(id).filter((a) => a.path === join(root, 'keep.conf')).length, 0, 'nothing unchanged alerted');
    await stop(agent);

    // The same machine enrolling again under the same name (its data directory lost) also keeps the identity.
    rmSync(data, { recursive: true });
    writeFileSync(join(root, 'keep.conf'), 'changed before the second re-enrolment\n');
    const same = await fleet.enroll(manager, 'host-r2', data, ['--name', 'web-r']);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.id, id);
    agent = track(fleet.startAgent(data, [root]));
    await alerted(id, [[join(root, 'keep.conf'), 'modified']], 60_000);
    await stop(agent);

    // The same machine under another name is refused: renaming is `manager rename`.
    const renamed = await fleet.enroll(manager, 'host-r2', join(fleet.dir, 'agent-r-other'), ['--name', 'web-r-new']);
    assert.notEqual(renamed.code, 0);
    assert.match(
      renamed.stderr,
      new RegExp(`this machine is already enrolled as agent ${id} \\(web-r\\): rename it with \`custos manager rename ${id} web-r-new\``),
    );
    // Another machine may share a name only when asked to.
    const twin = await fleet.enroll(manager, 'host-twin', join(fleet.dir, 'agent-twin'), ['--name', 'web-r', '--allow-duplicate-name']);
    assert.equal(twin.code, 0, twin.stderr);
    assert.notEqual(twin.id, id);
  });

  it('renaming an agent keeps it watching: same id, its alerts carry the new name, and duplicate names are refused', async () => {
    const root = tree('renamed', { 'a.conf': 'a\n' });
    const data = join(fleet.dir, 'agent-rename');
    const enrolled = await fleet.enroll(manager, 'host-n', data, ['--name', 'old-name']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const id = enrolled.id ?? '?';
    const agent = track(fleet.startAgent(data, [root]));
    await delivered(agent, 0);

    const clash = await runCustos(['manager', 'rename', '--data', fleet.managerData, id, 'state-1']);
    assert.equal(clash.code, 2);
    assert.match(clash.stderr, /is already named state-1/);

    const rename = await runCustos(['manager', 'rename', '--data', fleet.managerData, id, 'new-name']);
    assert.equal(rename.code, 0, rename.stderr);
    writeFileSync(join(root, 'a.conf'), 'changed after the rename\n');
    await alerted(id, [[join(root, 'a.conf'), 'modified']], 30_000);
    assert.deepEqual(
      fleet.fileAlerts(id).map((a) => a.agentName),
      ['new-name'],
    );
    const listed = jsonLines<{ id: string; name: string; status: string }>(
      (await runCustos(['manager', 'agents', '--data', fleet.managerData, '--json'])).stdout,
    );
    assert.deepEqual(
      listed.filter((a) => a.id === id).map((a) => [a.name, a.status]),
      [['new-name', 'active']],
    );
    await stop(agent);
  });

  it('revoking an agent alerts, and so do its attempts to report (once per 10 minutes), saying what it still holds', async () => {
    const root = tree('revoked', { 'x.conf': 'x\n' });
    const data = join(fleet.dir, 'agent-revoked');
    const enrolled = await fleet.enroll(manager, 'host-v', data, ['--name', 'doomed']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const id = enrolled.id ?? '?';
    const agent = track(fleet.startAgent(data, [root]));
    await delivered(agent, 0);

    // The manager goes away; the agent queues changes; the agent is revoked meanwhile.
    await manager.service.kill();
    const from = agent.lines.length;
    for (let i = 0; i < 3; i++) writeFileSync(join(root, `queued-${i}.conf`), `queued ${i}\n`);
    await agent.waitForMessage('manager unreachable; keeping the outbox', 30_000, from);
    const revoke = await runCustos(['manager', 'revoke', '--data', fleet.managerData, id]);
    assert.equal(revoke.code, 0, revoke.stderr);

    manager = await fleet.startManager(manager.port);
    const revoked = await eventually(() => fleet.agentAlerts(id).find((a) => a.rule.id === '570'), 30_000, 'the agent-revoked alert');
    assert.match(revoked.full_log, /will never be applied/);
    const trying = await eventually(() => fleet.agentAlerts(id).find((a) => a.rule.id === '571'), 90_000, 'the revoked-agent-trying alert');
    assert.match(
      trying.full_log,
      /It still holds (undelivered changes \(batch \d+, \d+ changes\)|\d+ undelivered batch\(es\) of changes); they are not applied/,
    );
    // It keeps trying; the manager logs each refusal but alerts once.
    const refusals = (): number =>
      manager.service.lines.filter((l) => l.msg === 'refused an agent request' && typeof l.reason === 'string' && l.reason.includes(`agent ${id} was revoked`))
        .length;
    await eventually(() => (refusals() >= 3 ? true : undefined), 90_000, 'three refused attempts');
    assert.equal(fleet.agentAlerts(id).filter((a) => a.rule.id === '571').length, 1);
    assert.equal(fleet.agentAlerts(id).filter((a) => a.rule.id === '570').length, 1);
    assert.deepEqual(fleet.fileAlerts(id), [], 'nothing it queued was applied');
    await stop(agent);
  });

  it('central directories: an added one builds its baseline silently, a removed one is retired (no false deletions on a later resync), a withdrawn group falls back to the local configuration', async () => {
    const local = tree('cfg-local', { 'local.conf': 'local\n' });
    const a = tree('cfg-a', { 'a1.conf': 'a1\n' });
    const b = tree('cfg-b', Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`b${i}.conf`, `b ${i}\n`])));
    const groupFile = join(fleet.managerData, 'shared', 'groups', 'cfg.yml');
    mkdirSync(join(fleet.managerData, 'shared', 'groups'), { recursive: true });
    const serve = (dirs: readonly string[]): void =>
      writeFileSync(groupFile, `syscheck:\n  directories:\n${dirs.map((d) => `    - path: ${d}\n      realtime: yes\n`).join('')}`);
    serve([a]);
    const data = join(fleet.dir, 'agent-cfg');
    const enrolled = await fleet.enroll(manager, 'host-c', data, ['--name', 'cfg-1', '--group', 'cfg']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const id = enrolled.id ?? '?';
    let agent = track(fleet.startAgent(data, [local]));
    await agent.waitForMessage('using the configuration the manager serves', 30_000);
    await scanDelivered(agent, 0);

    // Added: its files are the new directory's baseline, not 20 "file added" alerts.
    let from = agent.lines.length;
    serve([a, b]);
    const watching = await agent.waitForLog((l) => l.msg === 'watching in realtime', 30_000, from);
    assert.deepEqual(watching.dirs, [a, b]);
    await scanDelivered(agent, from);
    assert.deepEqual(fleet.fileAlerts(id), [], 'the added directory was baselined silently');
    writeFileSync(join(b, 'b0.conf'), 'changed\n');
    await alerted(id, [[join(b, 'b0.conf'), 'modified']], 30_000);

    // Removed: retired with a record, not reported deleted.
    from = agent.lines.length;
    serve([a]);
    await agent.waitForLog((l) => l.msg === 'watching in realtime' && JSON.stringify(l.dirs) === JSON.stringify([a]), 30_000, from);
    await scanDelivered(agent, from);
    const events = jsonLines<{ syscheck: { path: string; event: string }; outcome: string; reason?: string }>(
      (await runCustos(['events', '--data', fleet.managerData, '--agent', id, '--json'])).stdout,
    );
    const retired = events.filter((e) => e.syscheck.path.startsWith(`${b}/`) && e.reason?.startsWith('no longer monitored') === true);
    assert.equal(retired.length, 20, 'each file of the removed directory is recorded as no longer monitored');
    assert.ok(retired.every((e) => e.outcome === 'recorded'));

    // A forced full resync (the agent's state lost) finds the retired files still there and says nothing of them.
    await stop(agent);
    removeStateDatabase(data);
    agent = track(fleet.startAgent(data, [local]));
    await eventually(() => fleet.agentAlerts(id).find((x) => x.rule.id === '569'), 60_000, 'the resync after the state was lost');
    await agent.waitForMessage(/state lost or rolled back/, 30_000);
    const resynced = agent.lines.findIndex((l) => typeof l.msg === 'string' && l.msg.includes('state lost or rolled back'));
    await scanDelivered(agent, resynced);
    assert.deepEqual(
      fleet.fileAlerts(id).filter((x) => x.event === 'deleted'),
      [],
      'no false deletions',
    );

    // Withdrawn: the agent falls back to its own configuration.
    from = agent.lines.length;
    rmSync(groupFile);
    await agent.waitForMessage('the manager serves no configuration any more: using the local one again', 30_000, from);
    const own = await agent.waitForLog((l) => l.msg === 'watching in realtime', 30_000, from);
    assert.deepEqual(own.dirs, [local]);
    await scanDelivered(agent, from);
    writeFileSync(join(local, 'local.conf'), 'changed locally\n');
    await alerted(id, [[join(local, 'local.conf'), 'modified']], 30_000);
    assert.deepEqual(
      fleet.fileAlerts(id).filter((x) => x.event === 'deleted' || x.event === 'added'),
      [],
      'neither the retired directory nor the local one was reported file by file',
    );
    assert.deepEqual(
      fleet.agentAlerts(id).filter((x) => x.rule.id === '564'),
      [],
      'agent and manager agree on what is watched throughout',
    );
    await stop(agent);
  });

  it('only the very batch last applied is a replay; another batch under its number, or a keep-alive behind it, is a lost state', async () => {
    const root = tree('replay', { 'r.conf': 'r\n' });
    const data = join(fleet.dir, 'agent-replay');
    const enrolled = await fleet.enroll(manager, 'host-p', data, ['--name', 'replay-1']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const id = enrolled.id ?? '?';
    const agent = track(fleet.startAgent(data, [root]));
    await scanDelivered(agent, 0);
    await stop(agent);
    const { endpoint } = loadAgentIdentity(data);
    const keepalive = await callManager(endpoint, 'POST', '/v1/keepalive', {});
    const last = (keepalive.body as { ack: number }).ack;
    assert.ok(last >= 2);
    // A batch applied, then sent again as is (its acknowledgement lost): acknowledged as that very batch.
    const batch = { agentId: id, seq: last + 1, observations: [] };
    assert.equal((await callManager(endpoint, 'POST', '/v1/batches', batch)).status, 200);
    const again = await callManager(endpoint, 'POST', '/v1/batches', batch);
    assert.equal(again.status, 409);
    assert.deepEqual([(again.body as { duplicate?: boolean }).duplicate, (again.body as { stateLost?: boolean }).stateLost], [true, undefined]);
    // Another batch under that number, or an older number: not a replay but a state that went back.
    const other = await callManager(endpoint, 'POST', '/v1/batches', { ...batch, scan: { id: 'x', full: false, first: true } });
    assert.equal(other.status, 409);
    assert.equal((other.body as { stateLost?: boolean }).stateLost, true);
    await eventually(() => fleet.agentAlerts(id).find((a) => a.rule.id === '569'), 10_000, 'the state-lost alert');
    // Hostile directory lists and keep-alive bodies are refused or ignored, never a crash.
    for (const root of ['etc', '/etc\0passwd']) {
      const end = { id: 'h', full: false, digest: 'a'.repeat(64), entries: 0, durationMs: 1, roots: [Buffer.from(root).toString('base64')] };
      const hostile = await callManager(endpoint, 'POST', '/v1/batches', {
        agentId: id,
        seq: last + 2,
        scan: { id: 'h', full: false, first: true },
        observations: [],
        end,
      });
      assert.equal(hostile.status, 400, hostile.text);
    }
    assert.equal((await callManager(endpoint, 'POST', '/v1/keepalive', { seq: 'many', pending: -1 })).status, 200);
    assert.equal(manager.service.running, true);
    const behind = await callManager(endpoint, 'POST', '/v1/keepalive', { seq: 1 });
    assert.equal((behind.body as { stateLost?: boolean }).stateLost, true);
  });
});
