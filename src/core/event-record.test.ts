import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { BUILTIN_RULES } from './builtin-rules.js';
import { CHECK_ALL } from './check-set.js';
import { chainHash, decodeEventRecord, encodeEventRecord, GENESIS_HASH, type EventRecord } from './event-record.js';
import { diffFileStates } from './file-change.js';
import type { FileState } from './file-state.js';

describe('event records', () => {
  const path = Buffer.concat([Buffer.from('/etc/x'), Buffer.from([0xff, 0x0a])]);
  const change = diffFileStates(fileState({ path }), fileState({ path, mode: 0o600 }), CHECK_ALL);
  assert.ok(change !== undefined);
  const record: EventRecord = {
    agentId: '000',
    timestamp: '2026-11-27T19:00:00.000Z',
    change,
    verdict: { verdict: 'unknown' },
    rule: BUILTIN_RULES.modified,
    outcome: 'alerted',
    alertId: '1.x',
  };
  it('round-trips exactly, path bytes and nanosecond times included', () => {
    const decoded = decodeEventRecord(encodeEventRecord(record));
    assert.deepEqual(decoded, record);
  });
  it('carries how the change was seen, its decoder, the full_log wording and firedtimes; an older record reads as before', () => {
    const newer: EventRecord = { ...record, mode: 'realtime', decoder: 'syscheck_integrity_changed_2nd', fullLogStyle: 'wazuh', firedTimes: 4 };
    assert.deepEqual(decodeEventRecord(encodeEventRecord(newer)), newer);
    // The defaults add nothing to the stored text: records written before these keys hash as they did.
    assert.equal(encodeEventRecord({ ...record, mode: 'scheduled', fullLogStyle: 'ossec' }), encodeEventRecord(record));
    assert.doesNotMatch(encodeEventRecord(record), /"mode"|"decoder"|"full_log"|"fired"/);
  });
  it('encodes deterministically', () => {
    assert.equal(encodeEventRecord(record), encodeEventRecord(decodeEventRecord(encodeEventRecord(record))));
  });
  it('chains: any change to the text or the previous hash changes the link', () => {
    const text = encodeEventRecord(record);
    const h = chainHash(GENESIS_HASH, text);
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.notEqual(chainHash(GENESIS_HASH, text.replace('alerted', 'recorded')), h);
    assert.notEqual(chainHash('1'.repeat(64), text), h);
  });
  it('writes exactly the JSON of its documented shape, for every kind of record', () => {
    // The reference: the record as an object in the documented key order, through JSON.stringify.
    const stateJson = (s: FileState): unknown => ({
      p: s.path.toString('base64'),
      t: s.type,
      s: s.size,
      m: s.mode,
      u: s.uid,
      g: s.gid,
      ...(s.uname === undefined ? {} : { un: s.uname }),
      ...(s.gname === undefined ? {} : { gn: s.gname }),
      mt: s.mtimeNs.toString(),
      ct: s.ctimeNs.toString(),
      i: s.inode,
      d: s.dev,
      n: s.nlink,
      ...(s.linkTarget === undefined ? {} : { l: s.linkTarget.toString('base64') }),
      h: Object.fromEntries((['md5', 'sha1', 'sha256'] as const).flatMap((a) => (s.hashes[a] === undefined ? [] : [[a, s.hashes[a]]]))),
      ...(s.issues.length > 0 ? { x: s.issues } : {}),
    });
    const reference = (r: EventRecord): string => {
      const c = r.change;
      return JSON.stringify({
        v: 1,
        agent: r.agentId,
        time: r.timestamp,
        event: c.kind,
        path: c.path.toString('base64'),
        ...(c.kind === 'modified' ? { changed: c.changedAttributes } : {}),
        ...(c.kind === 'added' ? {} : { before: stateJson(c.before) }),
        ...(c.kind === 'deleted' ? {} : { after: stateJson(c.after) }),
        verdict: r.verdict,
        ...(r.rule === undefined ? {} : { rule: r.rule }),
        outcome: r.outcome,
        ...(r.reason === undefined ? {} : { reason: r.reason }),
        ...(r.alertId === undefined ? {} : { alertId: r.alertId }),
        ...(r.rolledUp === undefined ? {} : { rolled_up: r.rolledUp }),
      }).replace('"alertId":', '"alert":');
    };
    const { gname: _noGroupName, ...withGroupName } = fileState({
      path: Buffer.from([0x2f, 0xff, 0x0a, 0x22, 0x5c]),
      uname: 'o"wner\\\n\u0001é',
      mtimeNs: -1_500_000_000n,
      linkTarget: Buffer.from('../x "y"'),
      hashes: { sha256: 'a'.repeat(64) },
      issues: [{ code: 'vanished', message: 'gone "mid-read"\n' }],
      type: 'symlink',
    });
    const odd: FileState = withGroupName;
    const { uname: _noUserName, ...noHashes } = fileState({ hashes: {} });
    const { rule: _rule, alertId: _alertId, ...unalerted } = record;
    const records: EventRecord[] = [
      record,
      {
        ...record,
        change: { kind: 'added', path: odd.path, after: odd, changedAttributes: [] },
        verdict: { verdict: 'known-bad', label: 'Mirai "x"' },
        alertId: 'a"b',
        rolledUp: 3,
      },
      {
        ...unalerted,
        change: { kind: 'deleted', path: noHashes.path, before: noHashes, changedAttributes: [] },
        outcome: 'recorded',
        reason: 'new files are\n"not" alerted',
      },
      { ...record, change: diffFileStates(noHashes, odd, CHECK_ALL) ?? change, agentId: '0"1', timestamp: 'tab\there', outcome: 'accepted' },
    ];
    for (const r of records) {
      assert.equal(encodeEventRecord(r), reference(r));
      assert.deepEqual(decodeEventRecord(encodeEventRecord(r)), r);
    }
  });
  it('rejects malformed records', () => {
    assert.throws(() => decodeEventRecord('{"v":1,"event":"exploded"}'), /invalid event kind/);
    assert.throws(() => decodeEventRecord(encodeEventRecord(record).replace(/"md5":"[0-9a-f]+"/, '"md5":"zz"')), /malformed/);
    assert.throws(() => decodeEventRecord(encodeEventRecord(record).replace('"outcome":"alerted"', '"outcome":"ignored"')), /invalid outcome/);
  });
});
