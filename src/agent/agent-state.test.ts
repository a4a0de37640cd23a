import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { bytesPath, tempDir } from '../../test/support/temp-dir.js';
import { CHECK_ALL } from '../core/check-set.js';
import type { Observation } from '../core/observation.js';
import { pathKey, subtreeKeyRange } from '../core/path-bytes.js';
import { StateDigest } from '../core/state-digest.js';
import { storedFingerprint } from '../core/state-fingerprint.js';
import { BatchRequest, decodeObservation } from '../protocol/wire.js';
import { AgentState } from './agent-state.js';
import { AGENT_STATE_APPLICATION_ID, AGENT_STATE_DATABASE } from './agent-state-database.js';

const dir = tempDir();
let files = 0;
/** A fresh state file in the test directory. */
const freshPath = (): string => join(dir, `agent-${++files}.db`);

const present = (path: string | Buffer, overrides: Parameters<typeof fileState>[0] = {}): Observation => {
  const p = typeof path === 'string' ? Buffer.from(path) : path;
  return { path: p, current: fileState({ path: p, ...overrides }), checks: CHECK_ALL, inBaseline: false };
};
const gone = (path: string): Observation => ({ path: Buffer.from(path), checks: CHECK_ALL, inBaseline: true });

/** What the cache should hold, as the manager would digest its baseline: path keys in key order. */
function expectedDigest(observations: readonly Observation[]): { digest: string; entries: number } {
  const entries = observations.map((o) => ({ key: pathKey(o.path), fp: storedFingerprint(o.current!) })).sort((a, b) => Buffer.compare(a.key, b.key));
  const d = new StateDigest();
  for (const e of entries) d.add(e.key, e.fp);
  return { digest: d.hex(), entries: d.entries };
}

async function allFingerprints(state: AgentState, ranges: readonly { from: Buffer; to: Buffer }[]): Promise<{ key: Buffer; fingerprint: string }[]> {
  const out: { key: Buffer; fingerprint: string }[] = [];
  for await (const chunk of state.readFingerprints(ranges)) out.push(...chunk);
  return out;
}

const ALL = [{ from: Buffer.alloc(0), to: Buffer.from([0xff]) }];

describe('AgentState: the outbox', () => {
  it('numbers batches from 1 and hands them out oldest first until acknowledged', () => {
    const state = AgentState.open(freshPath());
    assert.equal(state.oldest(), undefined);
    assert.equal(state.outboxSize(), 0);
    assert.equal(state.enqueue('001', [present('/etc/a')]), 1);
    assert.equal(state.enqueue('001', [present('/etc/b')]), 2);
    assert.equal(state.enqueue('001', [present('/etc/c')]), 3);
    assert.equal(state.outboxSize(), 3);

    const first = state.oldest();
    assert.ok(first);
    assert.equal(first.seq, 1);
    assert.equal(first.body.seq, 1);
    assert.equal(first.body.agentId, '001');
    assert.equal(state.oldest()?.seq, 1, 'reading does not consume');

    state.acknowledge(1);
    assert.equal(state.oldest()?.seq, 2);
    state.acknowledge(3);
    assert.equal(state.oldest(), undefined, 'an ack covers every batch up to its sequence');
    assert.equal(state.outboxSize(), 0);
    assert.equal(state.enqueue('001', []), 4, 'numbering goes on after acks');
    state.acknowledge(0);
    assert.equal(state.outboxSize(), 1, 'an ack below every batch drops nothing');
    state.close();
  });

  it('stores bodies the manager accepts, carrying scan and end, that decode to the observations', () => {
    const state = AgentState.open(freshPath());
    const weird = bytesPath('/srv/', Buffer.from([0xff, 0x0a]), '.bin');
    const observations = [present('/etc/hosts'), present(weird, { type: 'fifo', size: 0, hashes: {} }), gone('/etc/old')];
    const scan = { id: 'scan-7', full: true, first: true };
    const end = { id: 'scan-7', full: true, digest: 'ab'.repeat(32), entries: 2, durationMs: 40 };
    const seq = state.enqueue('042', observations, { scan, end });
    const body = state.oldest()!.body;
    assert.equal(body.seq, seq);
    assert.deepEqual(body.scan, scan);
    assert.deepEqual(body.end, end);
    assert.equal(body.notice, undefined);
    const parsed = BatchRequest.safeParse(body);
    assert.ok(parsed.success, parsed.error?.message);
    assert.deepEqual(
      parsed.data.observations.map(decodeObservation),
      observations.map((o) => ({ ...o, inBaseline: true })),
    );
    state.close();
  });

  it('refuses a batch when the outbox is full, leaving outbox, numbering and cache untouched', () => {
    const state = AgentState.open(freshPath(), 2);
    assert.equal(state.enqueue('001', [present('/a')]), 1);
    assert.equal(state.enqueue('001', [present('/b')]), 2);
    const before = state.digest();
    assert.equal(state.enqueue('001', [present('/c'), gone('/a')]), undefined);
    assert.equal(state.outboxSize(), 2);
    assert.deepEqual(state.digest(), before, 'the refused batch did not move the cache');
    state.acknowledge(1);
    assert.equal(state.enqueue('001', [present('/c')]), 3, 'room again after an ack; no sequence was burnt');
    assert.equal(state.enqueue('001', [present('/d')]), undefined);
    state.close();
  });

  it('keeps everything across close and reopen', () => {
    const path = freshPath();
    const observations = [present('/etc/a'), present('/etc/b')];
    let state = AgentState.open(path);
    state.enqueue('001', observations.slice(0, 1));
    state.enqueue('001', observations.slice(1));
    state.enqueue('001', []);
    state.acknowledge(1);
    state.setMeta('last_scan_end', '1700000000000');
    const digest = state.digest();
    state.close();

    state = AgentState.open(path);
    assert.equal(state.outboxSize(), 2);
    assert.equal(state.oldest()?.seq, 2);
    assert.deepEqual(
      state.oldest()?.body.observations.map((w) => decodeObservation(w).path.toString()),
      ['/etc/b'],
    );
    assert.deepEqual(state.digest(), digest);
    assert.deepEqual(state.digest(), expectedDigest(observations));
    assert.equal(state.getMeta('last_scan_end'), '1700000000000');
    assert.equal(state.cacheEmpty(), false);
    assert.equal(state.enqueue('001', []), 4, 'numbering survives a restart');
    state.close();
  });

  it('creates the file readable by its owner only', () => {
    const path = freshPath();
    AgentState.open(path).close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});

describe('AgentState: the cache', () => {
  it('moves with each batch: adds, updates, and deletes a path with everything below it', async () => {
    const state = AgentState.open(freshPath());
    assert.equal(state.cacheEmpty(), true);
    state.enqueue('001', [present('/a', { type: 'directory', hashes: {} }), present('/a/b'), present('/a/b/c'), present('/ab'), present('/a.txt')]);
    assert.equal(state.cacheEmpty(), false);
    assert.equal(state.digest().entries, 5);

    const updated = present('/ab', { size: 999 });
    state.enqueue('001', [updated]);
    const [ab] = await allFingerprints(state, [subtreeKeyRange(Buffer.from('/ab'))]);
    assert.equal(ab?.fingerprint, storedFingerprint(updated.current!));

    state.enqueue('001', [gone('/a')]);
    const left = await allFingerprints(state, ALL);
    assert.deepEqual(
      left.map((e) => e.key),
      [pathKey(Buffer.from('/a.txt')), pathKey(Buffer.from('/ab'))],
      '/a, /a/b and /a/b/c are gone; /ab and /a.txt only share a prefix',
    );
    assert.deepEqual(state.digest(), expectedDigest([present('/a.txt'), updated]));
    state.close();
  });

  it('reads fingerprints in key order, by range, across many chunks', async () => {
    const state = AgentState.open(freshPath());
    const observations: Observation[] = [];
    for (let i = 0; i < 4500; i++) observations.push(present(`/d${i % 3}/f${String(i).padStart(5, '0')}`, { inode: i }));
    for (let i = 0; i < observations.length; i += 1000) state.enqueue('001', observations.slice(i, i + 1000));

    const all = await allFingerprints(state, ALL);
    assert.equal(all.length, 4500);
    for (let i = 1; i < all.length; i++) assert.ok(Buffer.compare(all[i - 1]!.key, all[i]!.key) < 0, `ordered at ${i}`);

    const d1 = await allFingerprints(state, [subtreeKeyRange(Buffer.from('/d1'))]);
    assert.equal(d1.length, 1500);
    assert.ok(d1.every((e) => e.key.subarray(0, 4).equals(pathKey(Buffer.from('/d1/')))));
    const twoRanges = await allFingerprints(state, [subtreeKeyRange(Buffer.from('/d0')), subtreeKeyRange(Buffer.from('/d2'))]);
    assert.equal(twoRanges.length, 3000);
    const byKey = new Map(observations.map((o) => [pathKey(o.path).toString('hex'), storedFingerprint(o.current!)]));
    for (const e of twoRanges) assert.equal(e.fingerprint, byKey.get(e.key.toString('hex')));
    state.close();
  });

  it('digests the cache as the manager digests the same baseline', () => {
    const state = AgentState.open(freshPath());
    const observations = [present('/z'), present('/etc/passwd'), present(bytesPath('/tmp/', Buffer.from([0xc3, 0x28]))), present('/etc/hosts')];
    state.enqueue('001', observations);
    assert.deepEqual(state.digest(), expectedDigest(observations));
    const empty = AgentState.open(freshPath());
    assert.deepEqual(empty.digest(), expectedDigest([]));
    empty.close();
    state.close();
  });

  it('changes its digest when an entry changes', () => {
    const state = AgentState.open(freshPath());
    state.enqueue('001', [present('/etc/hosts'), present('/etc/passwd')]);
    const before = state.digest();
    state.enqueue('001', [present('/etc/passwd', { ctimeNs: 1n })]);
    const after = state.digest();
    assert.notEqual(after.digest, before.digest);
    assert.equal(after.entries, 2);
    state.close();
  });
});

describe('AgentState: resetForResync', () => {
  it('forgets the cache but keeps the outbox and its numbering', () => {
    const state = AgentState.open(freshPath());
    state.enqueue('001', [present('/a')]);
    state.enqueue('001', [present('/b')]);
    state.resetForResync({ dropOutbox: false });
    assert.equal(state.cacheEmpty(), true);
    assert.deepEqual(state.digest(), expectedDigest([]));
    assert.equal(state.outboxSize(), 2);
    assert.equal(state.oldest()?.seq, 1);
    assert.equal(state.enqueue('001', []), 3);
    state.close();
  });

  it('dropping the outbox restarts numbering at the oldest unsent batch', () => {
    const state = AgentState.open(freshPath());
    for (let i = 0; i < 5; i++) state.enqueue('001', [present(`/f${i}`)]);
    state.acknowledge(2);
    state.resetForResync({ dropOutbox: true });
    assert.equal(state.outboxSize(), 0);
    assert.equal(state.cacheEmpty(), true);
    assert.equal(state.enqueue('001', []), 3, 'the manager holds 1 and 2 and expects 3 next');
    state.close();
  });

  it('dropping the outbox restarts numbering at the sequence the manager asks for', () => {
    const state = AgentState.open(freshPath());
    for (let i = 0; i < 3; i++) state.enqueue('001', [present(`/f${i}`)]);
    state.resetForResync({ dropOutbox: true, nextSeq: 17 });
    assert.equal(state.outboxSize(), 0);
    assert.equal(state.enqueue('001', []), 17);
    state.close();
  });

  it('keeps numbering when the outbox it drops is already empty', () => {
    const state = AgentState.open(freshPath());
    state.enqueue('001', [present('/a')]);
    state.acknowledge(1);
    state.resetForResync({ dropOutbox: true });
    assert.equal(state.enqueue('001', []), 2);
    state.close();
  });

  it('reports an overflow notice on the next batch only, even across a restart', () => {
    const path = freshPath();
    let state = AgentState.open(path, 2);
    state.enqueue('001', [present('/a')]);
    state.enqueue('001', [present('/b')]);
    assert.equal(state.enqueue('001', [present('/c')]), undefined);
    state.resetForResync({ dropOutbox: true, notice: 'outbox-overflow' });
    state.close();

    state = AgentState.open(path, 2);
    const seq = state.enqueue('001', [present('/a'), present('/b'), present('/c')], { scan: { id: 's', full: true, first: true } });
    assert.equal(seq, 1);
    assert.equal(state.oldest()?.body.notice, 'outbox-overflow');
    assert.ok(BatchRequest.safeParse(state.oldest()?.body).success);
    state.acknowledge(1);
    state.enqueue('001', []);
    assert.equal(state.oldest()?.body.notice, undefined);
    state.close();
  });

  it('does not drop a pending notice when the batch that would carry it is refused', () => {
    const state = AgentState.open(freshPath(), 1);
    state.enqueue('001', []);
    state.resetForResync({ dropOutbox: false, notice: 'outbox-overflow' });
    assert.equal(state.enqueue('001', [present('/a')]), undefined);
    state.acknowledge(1);
    state.enqueue('001', []);
    assert.equal(state.oldest()?.body.notice, 'outbox-overflow');
    state.close();
  });
});

describe('AgentState: continuity after a reset', () => {
  it("refuses batches of a scan started before a reset, and numbers on from the manager's count", () => {
    const state = AgentState.open(freshPath());
    for (let i = 0; i < 3; i++) state.enqueue('001', [present(`/f${i}`)]);
    assert.equal(state.highestSeq(), 3);
    const before = state.generation;
    state.resetForResync({ dropOutbox: true, nextSeq: 41 });
    assert.equal(state.enqueue('001', [present('/late')], {}, before), 'stale');
    assert.equal(state.outboxSize(), 0);
    assert.equal(state.cacheEmpty(), true, 'a stale batch does not write into the cache');
    assert.equal(state.highestSeq(), 40);
    assert.equal(state.enqueue('001', [present('/now')], {}, state.generation), 41);
    state.close();
  });

  it('keeps a full scan pending after a reset until one is done, even when realtime fills the cache meanwhile', () => {
    const path = freshPath();
    let state = AgentState.open(path);
    state.enqueue('001', [present('/a')]);
    assert.equal(state.needsFullScan(), false);
    state.resetForResync({ dropOutbox: false });
    state.enqueue('001', [present('/realtime')]);
    assert.equal(state.cacheEmpty(), false);
    state.close();
    state = AgentState.open(path);
    assert.equal(state.needsFullScan(), true, 'across a restart too');
    state.fullScanDone();
    assert.equal(state.needsFullScan(), false);
    state.close();
  });

  it('keeps only the cache entries inside the directories still watched', async () => {
    const state = AgentState.open(freshPath());
    state.enqueue('001', [present('/etc/a'), present('/etc/sub/b'), present('/srv/c'), present('/srvx/d')]);
    assert.equal(state.retainOnly([subtreeKeyRange(Buffer.from('/etc')), subtreeKeyRange(Buffer.from('/srvx'))]), 1);
    assert.deepEqual(
      (await allFingerprints(state, ALL)).map((e) => e.key.toString('latin1').replaceAll('\0', '/')),
      ['/etc/a', '/etc/sub/b', '/srvx/d'],
    );
    assert.equal(state.retainOnly([]), 3);
    assert.equal(state.cacheEmpty(), true);
    state.close();
  });
});

describe('AgentState: a database from before versioned migrations', () => {
  it('is adopted as it is: its outbox, cache and settings kept, then versioned and marked as agent state', () => {
    const path = freshPath();
    // The schema exactly as agents created it before versioned migrations (user_version and application_id 0).
    const old = new Database(path);
    old.exec(`
      CREATE TABLE IF NOT EXISTS cache (key BLOB PRIMARY KEY, fingerprint TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
    old.prepare('INSERT INTO outbox VALUES (?, ?, ?)').run(4, JSON.stringify({ agentId: '001', seq: 4, observations: [] }), '2026-11-27T10:00:00Z');
    old.prepare('INSERT INTO meta VALUES (?, ?)').run('next_seq', '5');
    old.prepare('INSERT INTO cache VALUES (?, ?)').run(pathKey(Buffer.from('/etc/hosts')), 'f');
    old.close();

    const state = AgentState.open(path);
    assert.equal(state.oldest()?.seq, 4);
    assert.equal(state.highestSeq(), 4);
    assert.equal(state.cacheEmpty(), false);
    assert.equal(state.enqueue('001', [present('/etc/passwd')]), 5, 'numbering goes on');
    state.close();
    const raw = new Database(path);
    assert.equal(raw.pragma('user_version', { simple: true }), AGENT_STATE_DATABASE.migrations.length);
    assert.equal(raw.pragma('application_id', { simple: true }), AGENT_STATE_APPLICATION_ID);
    raw.close();
  });

  it("refuses another application's database rather than adding its tables to it", () => {
    const path = freshPath();
    const other = new Database(path);
    other.pragma('application_id = 1234');
    other.close();
    assert.throws(() => AgentState.open(path), /not a Custos agent state database \(SQLite application_id 1234\)/);
  });
});
