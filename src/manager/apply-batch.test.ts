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
    observations: states.map((s) => encodeObservation('deleted' in s ? { path: s.deleted, checks: CHECK_ALL, inBaseline: true } : { path: s.path, current: s, checks: CHECK_ALL, inBaseline: false })),
    ...extra,
  });
  const end = (id: string, full: boolean, states: readonly FileState[], digest = digestOf(states)): BatchRequest['end'] => ({ id, full, ...digest, durationMs: 5 });

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
    const changed = file('/etc/hosts', { size: 200, mtimeNs: 1_800_000_000_000_000_000n, hashes: { md5: 'a'.repeat(32), sha1: 'b'.repeat(40), sha256: 'c'.repeat(64) } });
    const applied = await applyBatch(batch(2, [changed]), agent, deps);
    assert.equal(applied.summary.modified, 1);
    assert.deepEqual(
      alerts.map((a) => [a.rule.id, 'syscheck' in a ? a.syscheck.path : '']),
      [[550, '/etc/hosts']],
    );
  });

  it('raises rule 564 and asks for a resync when the agent\'s digest differs from the baseline', async () => {
    alerts.length = 0;
    // The agent believes /etc/hosts is still the original: its state and the manager's baseline have diverged.
    const applied = await applyBatch(batch(3, [], { scan: { id: 's2', full: false, first: true }, end: end('s2', false, [hosts, passwd, shadow]) }), agent, deps);
    assert.equal(applied.resync, true);
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.rule.id, 564);
    assert.match(alerts[0]?.full_log ?? '', /the manager's baseline does not match the agent's state .*a full resync was requested/);
  });

  it('after a full resync, what the agent no longer reported is deleted, and the digests agree again', async () => {
    alerts.length = 0;
    const now = [file('/etc/hosts', { size: 200, mtimeNs: 1_800_000_000_000_000_000n, hashes: { md5: 'a'.repeat(32), sha1: 'b'.repeat(40), sha256: 'c'.repeat(64) } }), passwd];
    await applyBatch(batch(4, [now[0]!], { scan: { id: 's3', full: true, first: true } }), agent, deps);
    const applied = await applyBatch(batch(5, [now[1]!], { scan: { id: 's3', full: true, first: false }, end: end('s3', true, now) }), agent, deps);
    assert.equal(applied.resync, false);
    assert.deepEqual(
      alerts.map((a) => [a.rule.id, 'syscheck' in a ? a.syscheck.event : '', 'syscheck' in a ? a.syscheck.path : '']),
      [[553, 'deleted', '/etc/shadow']],
    );
    assert.equal(await store.countBaseline(agent.id), 2);
    const chain = await store.verifyChain();
    assert.equal(chain.ok, true);
  });
});
