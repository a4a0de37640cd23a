import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alertParts } from '../build-alert.js';
import { fileState } from '../../../test/support/file-states.js';
import { parseRulesXml } from './parse-rules-xml.js';
import { buildRuleInput, syscheckDecoder } from './rule-input.js';
import { newCorrelationState, RuleSet } from './rule-set.js';
import { selectFimRules } from './select-fim-rules.js';
import type { SyscheckDecoder } from './rule-definition.js';

function compile(xml: string): RuleSet {
  const parsed = parseRulesXml(xml, 'rules.xml', () => undefined);
  assert.ok(parsed.ok, JSON.stringify(!parsed.ok && parsed.error));
  const selected = selectFimRules(parsed.value);
  assert.deepEqual(selected.errors, []);
  assert.deepEqual(selected.warnings, []);
  const set = RuleSet.compile(selected.definitions);
  assert.ok(set.ok, JSON.stringify(!set.ok && set.error));
  return set.value;
}

const before = fileState();
const after = fileState({ size: 181, hashes: { md5: 'b'.repeat(32) } });
const modified = { kind: 'modified' as const, path: before.path, before, after, changedAttributes: ['size' as const, 'md5' as const] };

function evaluate(set: RuleSet, decoder?: SyscheckDecoder, now = 1_000, state = newCorrelationState()): number | undefined {
  const input = buildRuleInput({
    parts: alertParts(modified),
    verdict: { verdict: 'unknown' },
    agent: { id: '001', name: 'web1' },
    now,
    ...(decoder === undefined ? {} : { decoder }),
  });
  return set.evaluate(input, state).rule?.id;
}

// Written here after the structure of OSSEC 3.x's ossec_rules.xml (its syscheck rules only).
const OSSEC_SYSCHECK = `<group name="ossec,">
  <rule id="550" level="7"><category>ossec</category><decoded_as>syscheck_integrity_changed</decoded_as><description>changed</description><group>syscheck,</group></rule>
  <rule id="551" level="7"><category>ossec</category><decoded_as>syscheck_integrity_changed_2nd</decoded_as><description>changed again (2nd time)</description><group>syscheck,</group></rule>
  <rule id="552" level="7"><category>ossec</category><decoded_as>syscheck_integrity_changed_3rd</decoded_as><description>changed again (3rd time)</description><group>syscheck,</group></rule>
</group>`;

describe("OSSEC's 551/552: a file's 2nd and 3rd change", () => {
  it('decodes the 2nd and 3rd change with their own decoders when a rule asks for them, and the 4th on as a plain change', () => {
    const set = compile(OSSEC_SYSCHECK);
    assert.deepEqual([...set.repeatDecoders].sort(), ['syscheck_integrity_changed_2nd', 'syscheck_integrity_changed_3rd']);
    const decoders = [0, 1, 2, 3, 7].map((prior) => syscheckDecoder('modified', prior, set.repeatDecoders));
    assert.deepEqual(decoders, [
      'syscheck_integrity_changed',
      'syscheck_integrity_changed_2nd',
      'syscheck_integrity_changed_3rd',
      'syscheck_integrity_changed',
      'syscheck_integrity_changed',
    ]);
    assert.deepEqual(
      decoders.map((d) => evaluate(set, d)),
      [550, 551, 552, 550, 550],
    );
  });
  it("keeps a repeated change a plain one when no rule asks for the repeat decoders (Custos's own rules)", () => {
    const set = compile(
      '<group name="syscheck,"><rule id="550" level="7"><decoded_as>syscheck_integrity_changed</decoded_as><description>changed</description></rule></group>',
    );
    assert.equal(set.repeatDecoders.size, 0);
    assert.equal(syscheckDecoder('modified', 1, set.repeatDecoders), 'syscheck_integrity_changed');
    assert.equal(syscheckDecoder('deleted', 1, new Set(['syscheck_integrity_changed_2nd'])), 'syscheck_deleted', 'only modifications are counted');
  });
});

describe('<if_matched_group>', () => {
  // After the shape of OSSEC's correlation rules: a group fires, a rule counts its matches within a timeframe.
  const set = compile(`<group name="syscheck,">
  <rule id="550" level="7"><decoded_as>syscheck_integrity_changed</decoded_as><description>changed</description><group>fim_change,</group></rule>
  <rule id="100200" level="12" frequency="3" timeframe="60">
    <if_matched_group>fim_change</if_matched_group>
    <same_location />
    <description>three changes on one agent within a minute</description>
  </rule>
</group>`);

  it('fires when the group matched often enough within the timeframe, then counts afresh', () => {
    const state = newCorrelationState();
    assert.deepEqual(
      [1_000, 2_000, 3_000, 4_000].map((now) => evaluate(set, undefined, now, state)),
      [550, 550, 100200, 550],
    );
  });
  it('does not count matches older than the timeframe', () => {
    const state = newCorrelationState();
    assert.deepEqual(
      [1_000, 2_000, 70_000].map((now) => evaluate(set, undefined, now, state)),
      [550, 550, 550],
    );
  });
});

describe('<options>', () => {
  it('reads alert_by_email, no_email_alert, no_counter and no_ar; other options skip the rule with a warning', () => {
    const parsed = parseRulesXml(
      `<group name="syscheck,">
  <rule id="100300" level="3"><if_sid>550</if_sid><options>alert_by_email,no_counter</options></rule>
  <rule id="100301" level="9"><if_sid>550</if_sid><options>no_email_alert</options><options>no_ar</options></rule>
  <rule id="100302" level="9"><if_sid>550</if_sid><options>no_full_log</options></rule>
  <rule id="550" level="7"><decoded_as>syscheck_integrity_changed</decoded_as></rule>
</group>`,
      'rules.xml',
      () => undefined,
    );
    assert.ok(parsed.ok);
    const selected = selectFimRules(parsed.value);
    const byId = new Map(selected.definitions.map((d) => [d.id, d]));
    assert.equal(byId.get(100300)?.email, 'always');
    assert.equal(byId.get(100300)?.noCounter, true);
    assert.equal(byId.get(100301)?.email, 'never');
    assert.equal(byId.has(100302), false);
    assert.deepEqual(
      selected.warnings.map((w) => w.key),
      ['rule 100302: <options>no_full_log'],
    );
  });
});
