import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { BUILTIN_RULES } from './builtin-rules.js';
import { CHECK_ALL } from './check-set.js';
import { chainHash, decodeEventRecord, encodeEventRecord, GENESIS_HASH, type EventRecord } from './event-record.js';
import { diffFileStates } from './file-change.js';

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
  it('rejects malformed records', () => {
    assert.throws(() => decodeEventRecord('{"v":1,"event":"exploded"}'), /invalid event kind/);
    assert.throws(() => decodeEventRecord(encodeEventRecord(record).replace(/"md5":"[0-9a-f]+"/, '"md5":"zz"')), /malformed/);
    assert.throws(() => decodeEventRecord(encodeEventRecord(record).replace('"outcome":"alerted"', '"outcome":"ignored"')), /invalid outcome/);
  });
});
