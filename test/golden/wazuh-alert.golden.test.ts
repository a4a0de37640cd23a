import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

type JsonType = 'string' | 'number' | 'boolean' | 'string[]' | 'object';

/**
 * Wazuh 4.x's syscheck alert, as its documentation shows one (user manual, file integrity monitoring: the
 * alerts.json examples of an added, a modified and a deleted file): each field by its dotted name, with its JSON
 * type, and the kinds of change that carry it. `before` fields appear only for attributes that changed.
 */
const WAZUH_SYSCHECK_ALERT: readonly { field: string; type: JsonType; events?: readonly string[]; optional?: boolean }[] = [
  { field: 'timestamp', type: 'string' },
  { field: 'id', type: 'string' },
  { field: 'rule.id', type: 'string' },
  { field: 'rule.level', type: 'number' },
  { field: 'rule.description', type: 'string' },
  { field: 'rule.groups', type: 'string[]' },
  { field: 'rule.firedtimes', type: 'number' },
  { field: 'rule.mail', type: 'boolean' },
  { field: 'rule.pci_dss', type: 'string[]' },
  { field: 'rule.gpg13', type: 'string[]' },
  { field: 'rule.gdpr', type: 'string[]' },
  { field: 'rule.hipaa', type: 'string[]' },
  { field: 'rule.nist_800_53', type: 'string[]' },
  { field: 'rule.tsc', type: 'string[]' },
  { field: 'rule.mitre.id', type: 'string[]', events: ['modified', 'deleted'] },
  { field: 'agent.id', type: 'string' },
  { field: 'agent.name', type: 'string' },
  { field: 'manager.name', type: 'string' },
  { field: 'full_log', type: 'string' },
  { field: 'decoder.name', type: 'string' },
  { field: 'location', type: 'string' },
  { field: 'syscheck.path', type: 'string' },
  { field: 'syscheck.mode', type: 'string' },
  { field: 'syscheck.event', type: 'string' },
  { field: 'syscheck.changed_attributes', type: 'string[]', events: ['modified'] },
  { field: 'syscheck.size_before', type: 'string', events: ['modified'] },
  { field: 'syscheck.size_after', type: 'string' },
  { field: 'syscheck.perm_after', type: 'string' },
  { field: 'syscheck.uid_after', type: 'string' },
  { field: 'syscheck.gid_after', type: 'string' },
  { field: 'syscheck.uname_after', type: 'string' },
  { field: 'syscheck.gname_after', type: 'string' },
  { field: 'syscheck.md5_before', type: 'string', events: ['modified'] },
  { field: 'syscheck.md5_after', type: 'string' },
  { field: 'syscheck.sha1_before', type: 'string', events: ['modified'] },
  { field: 'syscheck.sha1_after', type: 'string' },
  { field: 'syscheck.sha256_before', type: 'string', events: ['modified'] },
  { field: 'syscheck.sha256_after', type: 'string' },
  { field: 'syscheck.mtime_before', type: 'string', events: ['modified'] },
  { field: 'syscheck.mtime_after', type: 'string' },
  { field: 'syscheck.inode_after', type: 'number' },
];

/** Wazuh's formats: the alert time (local, milliseconds, `+hhmm`), a file's modification time (local, seconds). */
const WAZUH_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/;
const WAZUH_MTIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/;

/** Wazuh's values for the fields whose value is fixed by the kind of change. */
const DECODER = { added: 'syscheck_new_entry', modified: 'syscheck_integrity_changed', deleted: 'syscheck_deleted' } as const;

function valueAt(doc: unknown, field: string): unknown {
  return field.split('.').reduce<unknown>((v, key) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), doc);
}

function typeOf(value: unknown): JsonType | 'undefined' | 'other' {
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return value.every((v) => typeof v === 'string') ? 'string[]' : 'other';
  const t = typeof value;
  return t === 'string' || t === 'number' || t === 'boolean' || t === 'object' ? t : 'other';
}

describe("golden: alerts.json against Wazuh's documented syscheck alert", () => {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  const args = ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db')];
  let alerts: Record<string, unknown>[] = [];
  before(async () => {
    mkdirSync(tree);
    writeFileSync(join(dir, 'custos.yml'), `alerts:\n  manager_name: wazuh-manager-1\nsyscheck:\n  directories:\n    - path: ${tree}\n`);
    writeFileSync(join(tree, 'changed'), 'one\n');
    writeFileSync(join(tree, 'deleted'), 'bye\n');
    assert.equal((await runCustos(['check', ...args])).code, 0);
    // A modification time a second older than any the first scan saw: `mtime` is among the changed attributes.
    writeFileSync(join(tree, 'changed'), 'one and two\n');
    utimesSync(join(tree, 'changed'), new Date(Date.UTC(2026, 10, 30, 9, 58, 12, 345)), new Date(Date.UTC(2026, 10, 30, 9, 58, 12, 345)));
    unlinkSync(join(tree, 'deleted'));
    writeFileSync(join(tree, 'added'), 'new\n');
    assert.equal((await runCustos(['check', ...args])).code, 1);
    alerts = jsonLines<Record<string, unknown>>(readFileSync(join(dir, 'alerts.json'), 'utf8'));
  });

  it('wrote one alert per kind of change', () => {
    assert.deepEqual(alerts.map((a) => valueAt(a, 'syscheck.event')).sort(), ['added', 'deleted', 'modified']);
  });

  for (const event of ['added', 'modified', 'deleted'] as const) {
    it(`${event}: every Wazuh field Custos writes has Wazuh's name and JSON type; the fixed values are Wazuh's`, () => {
      const alert = alerts.find((a) => valueAt(a, 'syscheck.event') === event);
      assert.ok(alert !== undefined);
      const mismatched: string[] = [];
      for (const spec of WAZUH_SYSCHECK_ALERT) {
        if (spec.events !== undefined && !spec.events.includes(event)) continue;
        const actual = typeOf(valueAt(alert, spec.field));
        if (actual !== spec.type) mismatched.push(spec.field);
      }
      assert.deepEqual(mismatched, [], `fields not as Wazuh writes them: ${mismatched.join(', ')}`);
      // The tests run with TZ=UTC: Wazuh's local time is UTC, written +0000.
      assert.match(String(valueAt(alert, 'timestamp')), WAZUH_TIMESTAMP);
      assert.ok(String(valueAt(alert, 'timestamp')).endsWith('+0000'), String(valueAt(alert, 'timestamp')));
      assert.match(String(valueAt(alert, 'syscheck.mtime_after')), WAZUH_MTIME);
      assert.equal(valueAt(alert, 'manager.name'), 'wazuh-manager-1');
      assert.equal(valueAt(alert, 'rule.firedtimes'), 1, 'each rule fired once in this run');
      assert.equal(valueAt(alert, 'rule.mail'), false, 'email notification is off');
      assert.equal(valueAt(alert, 'syscheck.mode'), 'scheduled');
      assert.equal(valueAt(alert, 'rule.email'), undefined, 'the email option is not a field of its own');
      assert.equal(valueAt(alert, 'decoder.name'), DECODER[event]);
      assert.equal(valueAt(alert, 'location'), 'syscheck');
      assert.match(String(valueAt(alert, 'id')), /^\d+\.\d+$/, "Wazuh's seconds.offset");
      assert.deepEqual(valueAt(alert, 'rule.pci_dss'), ['11.5']);
      const groups = valueAt(alert, 'rule.groups') as string[];
      assert.ok(!groups.some((g) => /^(pci_dss|gpg13|gdpr|hipaa|nist_800_53|tsc)_/.test(g)), `compliance groups left in rule.groups: ${groups.join(',')}`);
      assert.ok(groups.includes(`syscheck_entry_${event}`), groups.join(','));
    });
  }

  it("writes the modification times as Wazuh does, and full_log in OSSEC's words by default", () => {
    const modified = alerts.find((a) => valueAt(a, 'syscheck.event') === 'modified');
    assert.equal(valueAt(modified, 'syscheck.mtime_after'), '2026-11-30T09:58:12');
    assert.match(String(valueAt(modified, 'syscheck.mtime_before')), WAZUH_MTIME);
    assert.match(String(valueAt(modified, 'full_log')), /^Integrity checksum changed for: '.*\/changed'\n/);
  });

  it("keeps Custos's own fields under their own keys", () => {
    for (const alert of alerts) assert.equal(typeOf(valueAt(alert, 'known_hash.verdict')), 'string');
  });
});
