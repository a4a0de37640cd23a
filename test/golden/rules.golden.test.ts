import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { packagePath } from '../../src/platform/package-root.js';
import { loadRuleSet } from '../../src/analysis/load-rule-set.js';
import { ruleInputFromAlert } from '../../src/core/rules/rule-input.js';
import { newCorrelationState } from '../../src/core/rules/rule-set.js';

// The golden files live in the source tree, beside this test's source.
const here = packagePath('test/golden/rules/');
const lines = <T>(name: string): T[] =>
  readFileSync(`${here}${name}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

interface GoldenEvent {
  timestamp: string;
  agent: { id: string; name: string };
  syscheck: { path: string; event: 'added' | 'modified' | 'deleted' };
  full_log: string;
}
interface Expected {
  path: string;
  agent: string;
  rule: number;
  level: number;
  alert: boolean;
  no_log?: boolean;
}

describe('golden rules: rules.xml × events.jsonl = expected-alerts.jsonl', () => {
  const rules = loadRuleSet([`${here}rules.xml`]);
  const events = lines<GoldenEvent>('events.jsonl');
  const expected = lines<Expected>('expected-alerts.jsonl');
  it('has one expectation per event', () => assert.equal(events.length, expected.length));
  const state = newCorrelationState();
  events.forEach((event, i) => {
    const want = expected[i] as Expected;
    it(`${i + 1}: ${want.agent} ${event.syscheck.event} ${want.path} -> rule ${want.rule}`, () => {
      const { rule } = rules.evaluate(ruleInputFromAlert({ ...event }, Date.parse(event.timestamp)), state);
      assert.ok(rule !== undefined);
      assert.deepEqual(
        {
          path: event.syscheck.path,
          agent: event.agent.name,
          rule: rule.id,
          level: rule.level,
          alert: rule.level > 0,
          ...(rule.noLog ? { no_log: true } : {}),
        },
        want,
      );
    });
  });
});
