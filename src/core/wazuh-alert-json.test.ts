import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { buildAlert } from './build-alert.js';
import { BUILTIN_RULES } from './builtin-rules.js';
import { wazuhAlertJson, wazuhMtime, wazuhTimestamp } from './wazuh-alert-json.js';

const utc = (): number => 0;

describe('wazuhAlertJson (alerts.json as Wazuh writes it)', () => {
  const before = fileState({ mtimeNs: 1_796_032_680_000_000_000n });
  const after = fileState({ size: 181, mtimeNs: 1_796_032_692_345_678_901n });
  const alert = buildAlert({
    id: '1796032800.42',
    timestamp: new Date('2026-11-30T10:00:00.000Z'),
    agent: { id: '001', name: 'web1' },
    rule: { ...BUILTIN_RULES.modified, email: 'always' },
    change: { kind: 'modified', path: after.path, before, after, changedAttributes: ['size', 'mtime'] },
    verdict: { verdict: 'unknown' },
    firedTimes: 3,
    view: { mode: 'realtime', fullLogStyle: 'ossec' },
  });

  it("writes the time, manager, mail and modification times in Wazuh's formats, the rest as built", () => {
    const json = wazuhAlertJson(alert, { managerName: 'wazuh-manager', mailed: () => true, offsetMinutes: utc });
    assert.equal(json.timestamp, '2026-11-30T10:00:00.000+0000');
    assert.deepEqual(json.manager, { name: 'wazuh-manager' });
    const rule = json.rule as Record<string, unknown>;
    assert.equal(rule.id, '550');
    assert.equal(rule.firedtimes, 3);
    assert.equal(rule.mail, true);
    assert.equal(rule.email, undefined, 'the email option decides mail; it is not a Wazuh field');
    const syscheck = json.syscheck as Record<string, unknown>;
    assert.equal(syscheck.mode, 'realtime');
    assert.equal(syscheck.mtime_before, '2026-11-30T09:58:00');
    assert.equal(syscheck.mtime_after, '2026-11-30T09:58:12');
    assert.equal(json.full_log, alert.full_log);
    assert.deepEqual(json.known_hash, { verdict: 'unknown' });
    assert.equal((alert.syscheck as Record<string, unknown>).mtime_after, '2026-11-30T09:58:12.345678901Z', 'the alert itself keeps the nanoseconds');
  });

  it('writes local time with the offset of the instant, east and west of UTC', () => {
    assert.equal(
      wazuhTimestamp('2026-11-30T10:00:00.123Z', () => 330),
      '2026-11-30T15:30:00.123+0530',
    );
    assert.equal(
      wazuhTimestamp('2026-11-30T03:00:00.000Z', () => -480),
      '2026-11-29T19:00:00.000-0800',
    );
    assert.equal(
      wazuhMtime('2026-11-30T03:00:00.999999999Z', () => -480),
      '2026-11-29T19:00:00',
    );
  });

  it('says mail: false when the email settings do not mail it', () => {
    const json = wazuhAlertJson(alert, { managerName: 'm', mailed: () => false, offsetMinutes: utc });
    assert.equal((json.rule as Record<string, unknown>).mail, false);
  });
});
