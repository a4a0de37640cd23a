import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatConfigIssue } from '../custos-error.js';
import { parseYamlConfig } from './yaml-config.js';

const defaults = { dataDir: '/var/lib/custos', hostname: 'host1' };

describe('agent.managers (failover order)', () => {
  it('keeps the managers in the order given', () => {
    const r = parseYamlConfig('agent:\n  managers:\n    - https://m1.example:1515\n    - https://m2.example:1515\n', 'custos.yml', defaults);
    assert.ok(r.ok);
    assert.deepEqual(r.value.config.agentManagers, ['https://m1.example:1515', 'https://m2.example:1515']);
  });
  it('is absent when not set (the managers given at enrollment are used)', () => {
    const r = parseYamlConfig('', 'custos.yml', defaults);
    assert.ok(r.ok);
    assert.equal(r.value.config.agentManagers, undefined);
  });
  it('refuses a manager that is not an https URL, naming file, line and key', () => {
    const r = parseYamlConfig('agent:\n  managers:\n    - https://m1.example:1515\n    - http://m2.example:1515\n', 'custos.yml', defaults);
    assert.ok(!r.ok);
    const text = r.error.map(formatConfigIssue).join('\n');
    assert.match(text, /custos\.yml:4/);
    assert.match(text, /agent\.managers\[1\]/);
    assert.match(text, /https:\/\//);
  });
  it('refuses an empty list', () => {
    const r = parseYamlConfig('agent:\n  managers: []\n', 'custos.yml', defaults);
    assert.ok(!r.ok);
  });
});
