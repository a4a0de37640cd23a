import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDirectoryNotScannedAlert } from './agent-alerts.js';

describe('buildDirectoryNotScannedAlert (rule 572)', () => {
  const base = { id: '1.a', timestamp: new Date('2026-11-29T22:00:00Z'), agent: { id: '000', name: 'web1' }, reason: 'it does not exist' };

  it('names the directory and the reason in one line of text', () => {
    const alert = buildDirectoryNotScannedAlert({ ...base, path: Buffer.from('/var/www') });
    assert.deepEqual([Number(alert.rule.id), alert.rule.level], [572, 7]);
    assert.equal(alert.full_log, "Monitored directory '/var/www' could not be scanned: it does not exist. Changes below it are not being seen.");
    assert.deepEqual(alert.custos, { agent_event: 'directory-not-scanned', path: '/var/www', reason: 'it does not exist' });
  });

  it('escapes a hostile name in the text and carries its exact bytes', () => {
    const path = Buffer.concat([Buffer.from('/srv/bad\n'), Buffer.of(0xff)]);
    const alert = buildDirectoryNotScannedAlert({ ...base, path });
    assert.doesNotMatch(alert.full_log, /\n/);
    assert.equal(alert.custos.path, '/srv/bad\\n\\xff');
    assert.deepEqual(Buffer.from(String(alert.custos.path_bytes), 'base64'), path);
  });
});
