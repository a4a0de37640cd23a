import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { loadRuleSet } from '../analysis/load-rule-set.js';
import type { AnyAlert } from '../core/build-alert.js';
import { CHECK_ALL } from '../core/check-set.js';
import type { FileState } from '../core/file-state.js';
import { DEFAULT_KNOWN_HASH_POLICY } from '../core/known-hash-policy.js';
import { pathKey } from '../core/path-bytes.js';
import { newCorrelationState } from '../core/rules/rule-set.js';
import { StateDigest } from '../core/state-digest.js';
import { storedFingerprint } from '../core/state-fingerprint.js';
import { encodeObservation, type BatchRequest } from '../protocol/wire.js';
import { SqliteStore } from '../storage/sqlite/sqlite-store.js';
import { SequenceError } from '../storage/store.js';
import { applyBatch, type ApplyBatchDeps } from './apply-batch.js';

/** What the agent would send as the digest of `states`: its whole cache, in key order. */
function digestOf(states: readonly FileState[]): { digest: string; entries: number } {
  const d = new StateDigest();
  for (const s of [...states].sort((a, b) => Buffer.compare(pathKey(a.path), pathKey(b.path)))) d.add(pathKey(s.path), storedFingerprint(s));
  return { digest: d.hex(), entries: d.entries };
}

/** How a file alert says its change was seen. */
const modeOf = (alert: AnyAlert | undefined): unknown => (alert !== undefined && 'syscheck' in alert ? alert.syscheck.mode : undefined);

const file = (path: string, overrides: Partial<FileState> = {}): FileState => fileState({ path: Buffer.from(path), ...overrides });

describe('applyBatch: the manager applies agent batches to its own baseline', () => {
  const dir = tempDir();
  let store: SqliteStore;
  let deps: ApplyBatchDeps;
  const alerts: AnyAlert[] = [];
  const agent = { id: '', name: 'web-1' };
  const hosts = file('/etc/hosts');
  const passwd = file('/etc/passwd', { inode: 2, size: 900 });
  const shadow = file('/etc/shadow', { inode: 3, mode: 0o640 });

  const batch = (seq: number, states: readonly (FileState | { deleted: Buffer })[], extra: Partial<BatchRequest> = {}): BatchRequest => ({
    agentId: agent.id,
    seq,
    observations: states.map((s) =>
      encodeObservation(
        'deleted' in s ? { path: s.deleted, checks: CHECK_ALL, inBaseline: true } : { path: s.path, current: s, checks: CHECK_ALL, inBaseline: false },
      ),
    ),
    ...extra,
  });
  const end = (id: string, full: boolean, states: readonly FileState[], digest = digestOf(states)): BatchRequest['end'] => ({
    id,
    full,
    ...digest,
    durationMs: 5,
  });

  before(async () => {
    store = SqliteStore.open(join(dir, 'manager.db'));
    agent.id = (await store.registerAgent(agent.name, new Date().toISOString())).id;
    deps = {
      store,
      rules: loadRuleSet([]),
      correlation: newCorrelationState(),
      sinks: [{ write: async (a) => void alerts.push(...a), close: async () => {} }],
      now: () => new Date(),
      policy: { alertNewFiles: true, autoIgnore: { enabled: false, frequency: 3, timeframeMs: 3_600_000 }, knownHashPolicy: DEFAULT_KNOWN_HASH_POLICY },
    };
  });

  it('builds the baseline silently from the first full scan, whose digest then matches', async () => {
    const states = [hosts, passwd, shadow];
    const applied = await applyBatch(batch(1, states, { scan: { id: 's1', full: true, first: true }, end: end('s1', true, states) }), agent, deps);
    assert.equal(applied.resync, false);
    assert.equal(applied.alerts, 0);
    assert.deepEqual(alerts, []);
    assert.equal(await store.countBaseline(agent.id), 3);
    assert.equal(await store.lastSequence(agent.id), 1);
  });

  it('refuses a replayed batch and changes nothing', async () => {
    const changed = file('/etc/hosts', { size: 1, mtimeNs: 1n });
    await assert.rejects(applyBatch(batch(1, [changed]), agent, deps), (e: unknown) => e instanceof SequenceError && e.expected === 2);
    await assert.rejects(applyBatch(batch(3, [changed]), agent, deps), SequenceError);
    assert.equal((await store.getBaselineState(agent.id, hosts.path))?.size, hosts.size);
    assert.deepEqual(alerts, []);
  });

  it('alerts on a change against its own baseline', async () => {
    const changed = file('/etc/hosts', {
      size: 200,
      mtimeNs: 1_800_000_000_000_000_000n,
      hashes: { md5: 'a'.repeat(32), sha1: 'b'.repeat(40), sha256: 'c'.repeat(64) },
    });
    const applied = await applyBatch(batch(2, [changed]), agent, deps);
    assert.equal(applied.summary.modified, 1);
    assert.deepEqual(
      alerts.map((a) => [Number(a.rule.id), 'syscheck' in a ? a.syscheck.path : '']),
      [[550, '/etc/hosts']],
    );
    // Sent without `scan`: what the agent's realtime watcher saw, and the alert says so, stored too.
    assert.equal(modeOf(alerts[0]), 'realtime');
    const stored: AnyAlert[] = [];
    for await (const a of store.queryAlerts({ agentId: agent.id })) stored.push(a);
    assert.equal(modeOf(stored[0]), 'realtime');
    assert.equal(stored[0]?.rule.firedtimes, 1);
  });

  it("raises rule 564 and asks for a resync when the agent's digest differs from the baseline", async () => {
    alerts.length = 0;
    // The agent believes /etc/hosts is still the original: its state and the manager's baseline have diverged.
    const applied = await applyBatch(
      batch(3, [], { scan: { id: 's2', full: false, first: true }, end: end('s2', false, [hosts, passwd, shadow]) }),
      agent,
      deps,
    );
    assert.equal(applied.resync, true);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.rule.id, '564');
    assert.match(alerts[0]?.full_log ?? '', /the manager's baseline does not match the agent's state .*a full resync was requested/);
  });

  it('after a full resync, what the agent no longer reported is deleted, and the digests agree again', async () => {
    alerts.length = 0;
    const now = [
      file('/etc/hosts', { size: 200, mtimeNs: 1_800_000_000_000_000_000n, hashes: { md5: 'a'.repeat(32), sha1: 'b'.repeat(40), sha256: 'c'.repeat(64) } }),
      passwd,
    ];
    await applyBatch(batch(4, [now[0]!], { scan: { id: 's3', full: true, first: true } }), agent, deps);
    const applied = await applyBatch(batch(5, [now[1]!], { scan: { id: 's3', full: true, first: false }, end: end('s3', true, now) }), agent, deps);
    assert.equal(applied.resync, false);
    assert.deepEqual(
      alerts.map((a) => [Number(a.rule.id), 'syscheck' in a ? a.syscheck.event : '', 'syscheck' in a ? a.syscheck.path : '']),
      [[553, 'deleted', '/etc/shadow']],
    );
    assert.equal(await store.countBaseline(agent.id), 2);
    const chain = await store.verifyChain();
    assert.equal(chain.ok, true);
  });

  it("builds a newly reported directory's baseline silently, and retires one no longer reported instead of deleting it", async () => {
    alerts.length = 0;
    const roots = (...paths: string[]): string[] => paths.map((p) => Buffer.from(p).toString('base64'));
    const etc = [
      file('/etc/hosts', { size: 200, mtimeNs: 1_800_000_000_000_000_000n, hashes: { md5: 'a'.repeat(32), sha1: 'b'.repeat(40), sha256: 'c'.repeat(64) } }),
      passwd,
    ];
    // The agent starts reporting its directories: /etc as before.
    await applyBatch(batch(6, [], { scan: { id: 's4', full: false, first: true }, end: { ...end('s4', false, etc)!, roots: roots('/etc') } }), agent, deps);
    // /srv is added: its existing files are its baseline, not "added" alerts.
    const srv = [file('/srv/a', { inode: 10 }), file('/srv/b', { inode: 11 })];
    const first = await applyBatch(
      batch(7, srv, { scan: { id: 's5', full: false, first: true }, end: { ...end('s5', false, [...etc, ...srv])!, roots: roots('/etc', '/srv') } }),
      agent,
      deps,
    );
    assert.equal(first.alerts, 0);
    assert.equal(alerts.length, 0, JSON.stringify(alerts));
    assert.equal(await store.countBaseline(agent.id), 4);
    // From then on, /srv alerts like any other directory.
    await applyBatch(batch(8, [file('/srv/c', { inode: 12 })]), agent, deps);
    assert.deepEqual(
      alerts.map((a) => [Number(a.rule.id), 'syscheck' in a ? a.syscheck.path : '']),
      [[554, '/srv/c']],
    );
    alerts.length = 0;
    // /srv is removed: retired with a record, no alert, and the digests agree on what is left.
    const retired = await applyBatch(
      batch(9, [], { scan: { id: 's6', full: false, first: true }, end: { ...end('s6', false, etc)!, roots: roots('/etc') } }),
      agent,
      deps,
    );
    assert.equal(retired.resync, false);
    assert.equal(alerts.length, 0, JSON.stringify(alerts));
    assert.equal(await store.countBaseline(agent.id), 2);
    const records: { path: string; outcome: string; reason?: string }[] = [];
    for await (const e of store.queryEvents({ agentId: agent.id, path: Buffer.from('/srv') }))
      records.push({ path: e.record.change.path.toString(), outcome: e.record.outcome, ...(e.record.reason === undefined ? {} : { reason: e.record.reason }) });
    assert.deepEqual(
      records.filter((r) => r.reason?.startsWith('no longer monitored') === true).map((r) => [r.path, r.outcome]),
      [
        ['/srv/a', 'recorded'],
        ['/srv/b', 'recorded'],
        ['/srv/c', 'recorded'],
      ],
    );
    // Added back later, it is a new directory again: its first scan is silent.
    await applyBatch(
      batch(10, srv, { scan: { id: 's7', full: false, first: true }, end: { ...end('s7', false, [...etc, ...srv])!, roots: roots('/etc', '/srv') } }),
      agent,
      deps,
    );
    assert.equal(alerts.length, 0, JSON.stringify(alerts));
    assert.equal((await store.verifyChain()).ok, true);
  });

  it('a full resync sweeps only inside the directories it covered', async () => {
    alerts.length = 0;
    const roots = (...paths: string[]): string[] => paths.map((p) => Buffer.from(p).toString('base64'));
    const etc = [
      file('/etc/hosts', { size: 200, mtimeNs: 1_800_000_000_000_000_000n, hashes: { md5: 'a'.repeat(32), sha1: 'b'.repeat(40), sha256: 'c'.repeat(64) } }),
      passwd,
    ];
    // A full scan of /etc only, while the baseline still holds /srv (the agent's configuration just dropped it).
    const applied = await applyBatch(
      batch(11, etc, { scan: { id: 's8', full: true, first: true }, end: { ...end('s8', true, etc)!, roots: roots('/etc') } }),
      agent,
      deps,
    );
    assert.equal(alerts.length, 0, 'no /srv file is reported deleted');
    assert.equal(applied.resync, false);
    assert.equal(await store.countBaseline(agent.id), 2);
  });

  it("words a scheduled scan's change in Wazuh's full_log when asked, with its mode", async () => {
    alerts.length = 0;
    const seq = (await store.lastSequence(agent.id)) + 1;
    const base = (await store.getBaselineState(agent.id, Buffer.from('/etc/passwd'))) ?? passwd;
    const changed = { ...base, mode: 0o600 };
    await applyBatch(batch(seq, [changed], { scan: { id: 's9', full: false, first: true } }), agent, {
      ...deps,
      policy: { ...deps.policy, fullLogStyle: 'wazuh' },
    });
    assert.equal(alerts.length, 1, JSON.stringify(alerts));
    assert.equal(
      alerts[0]?.full_log,
      "File '/etc/passwd' modified\nMode: scheduled\nChanged attributes: permission\nPermissions changed from 'rw-r--r--' to 'rw-------'\n",
    );
    assert.equal(modeOf(alerts[0]), 'scheduled');
  });
});
