import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { alertRule, buildAlert, ruleGroups } from './build-alert.js';
import { BUILTIN_RULES } from './builtin-rules.js';
import { CHECK_ALL } from './check-set.js';
import { diffFileStates } from './file-change.js';
import { UNKNOWN_VERDICT } from './known-hash-verdict.js';

const at = new Date('2026-11-27T19:00:00.000Z');
const agent = { id: '000', name: 'web1' };

describe('buildAlert', () => {
  it('builds the alert JSON contract (Wazuh field names) for a modification', () => {
    const before = fileState();
    const after = fileState({ size: 181, mtimeNs: before.mtimeNs + 5n, hashes: { ...before.hashes, md5: 'f'.repeat(32) } });
    const change = diffFileStates(before, after, CHECK_ALL);
    assert.ok(change !== undefined);
    const alert = buildAlert({ id: '1.a', timestamp: at, agent, rule: BUILTIN_RULES.modified, change, verdict: UNKNOWN_VERDICT });
    assert.equal(alert.timestamp, '2026-11-27T19:00:00.000Z');
    assert.deepEqual(alert.rule, {
      id: '550',
      level: 7,
      description: 'Integrity checksum changed.',
      groups: ['ossec', 'syscheck', 'syscheck_entry_modified', 'syscheck_file'],
    });
    assert.deepEqual(alert.decoder, { name: 'syscheck_integrity_changed' });
    assert.equal(alert.location, 'syscheck');
    assert.equal(alert.syscheck.path, '/etc/hosts');
    assert.equal(alert.syscheck.path_bytes, undefined);
    assert.equal(alert.syscheck.event, 'modified');
    assert.deepEqual(alert.syscheck.changed_attributes, ['size', 'mtime', 'md5']);
    assert.equal(alert.syscheck.size_before, '158');
    assert.equal(alert.syscheck.size_after, '181');
    assert.equal(alert.syscheck.md5_after, 'f'.repeat(32));
    assert.equal(alert.syscheck.perm_after, 'rw-r--r--');
    assert.equal(alert.syscheck.uname_after, 'root');
    assert.equal(alert.syscheck.inode_after, 1234);
    assert.equal(alert.syscheck.mtime_after, '2023-11-14T22:13:20.123456794Z');
    assert.equal(alert.syscheck.perm_before, undefined, 'unchanged attributes carry no _before');
    assert.deepEqual(alert.known_hash, { verdict: 'unknown' });
    assert.match(alert.full_log, /^Integrity checksum changed for: '\/etc\/hosts'\nSize changed from '158' to '181'/);
  });
  it('carries a non-UTF-8 path exactly in path_bytes', () => {
    const path = Buffer.concat([Buffer.from('/tmp/bad'), Buffer.from([0xff, 0xfe])]);
    const change = diffFileStates(undefined, fileState({ path }), CHECK_ALL);
    assert.ok(change !== undefined);
    const alert = buildAlert({ id: '1.b', timestamp: at, agent, rule: BUILTIN_RULES.added, change, verdict: UNKNOWN_VERDICT });
    assert.equal(alert.syscheck.path, '/tmp/bad\\xff\\xfe');
    assert.deepEqual(Buffer.from(String(alert.syscheck.path_bytes), 'base64'), path);
    assert.equal(alert.syscheck.event, 'added');
  });
  it('puts the last known attributes of a deleted file in *_after, as Wazuh does', () => {
    const change = diffFileStates(fileState(), undefined, CHECK_ALL);
    assert.ok(change !== undefined);
    const alert = buildAlert({ id: '1.c', timestamp: at, agent, rule: BUILTIN_RULES.deleted, change, verdict: UNKNOWN_VERDICT });
    assert.equal(alert.rule.id, '553');
    assert.equal(alert.syscheck.sha256_after, fileState().hashes.sha256);
  });
});

describe('alertRule', () => {
  it("moves compliance groups into Wazuh's arrays, keeps the others in order, and the id as a string", () => {
    const groups = [
      'ossec',
      'syscheck',
      'pci_dss_11.5',
      'gpg13_4.11',
      'gdpr_II_5.1.f',
      'hipaa_164.312.c.1',
      'hipaa_164.312.c.2',
      'nist_800_53_SI.7',
      'tsc_PI1.4',
      'syscheck_file',
      'pci_dss_',
    ];
    const rule = alertRule({
      id: 550,
      level: 7,
      description: 'x',
      groups,
      mitre: { id: ['T1565.001'] },
    });
    assert.deepEqual(rule, {
      id: '550',
      level: 7,
      description: 'x',
      groups: ['ossec', 'syscheck', 'syscheck_file', 'pci_dss_'],
      pci_dss: ['11.5'],
      gpg13: ['4.11'],
      gdpr: ['II_5.1.f'],
      hipaa: ['164.312.c.1', '164.312.c.2'],
      nist_800_53: ['SI.7'],
      tsc: ['PI1.4'],
      mitre: { id: ['T1565.001'] },
    });
    assert.deepEqual(ruleGroups(rule).sort(), [...groups].sort());
  });
});
