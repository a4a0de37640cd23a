import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRulesXml } from './parse-rules-xml.js';
import { RuleSet } from './rule-set.js';

const noLists = (): undefined => undefined;

describe('parseRulesXml', () => {
  it('reads a rule with its conditions and groups', () => {
    const r = parseRulesXml('<group name="local,syscheck,">\n<rule id="100001" level="0">\n<if_group>syscheck</if_group>\n<match>/etc/hosts</match>\n<description>x</description>\n<group>quiet,</group>\n</rule>\n</group>', 'local_rules.xml', noLists);
    assert.ok(r.ok);
    const rule = r.value[0];
    assert.equal(rule?.id, 100001);
    assert.deepEqual(rule?.groups, ['local', 'syscheck', 'quiet']);
    assert.deepEqual(rule?.ifGroup, ['syscheck']);
    assert.equal(rule?.source.line, 2);
  });
  it('reports every problem with file, line and rule id; an unknown tag is an error', () => {
    const text = [
      '<group name="local,">', //                       1
      '  <rule id="100001" level="20">', //             2
      '    <match>x</match>', //                        3
      '  </rule>', //                                   4
      '  <rule id="100002" level="5">', //              5
      '    <srcip>10.0.0.1</srcip>', //                 6
      '    <regex>\\q</regex>', //                      7
      '  </rule>', //                                   8
      '  <rule id="100003" level="3" noalert="1">', //  9
      '    <list field="md5">lists/none</list>', //    10
      '    <options>alert_by_email</options>', //      11
      '  </rule>', //                                  12
      '</group>',
    ].join('\n');
    const r = parseRulesXml(text, '/var/ossec/rules/local_rules.xml', noLists);
    assert.ok(!r.ok);
    const found = r.error.map((i) => `${i.line}:${i.key}`);
    for (const want of ['2:rule 100001', '6:rule 100002: <srcip>', '5:rule 100002: <regex>', '9:rule 100003', '10:rule 100003: <list>', '11:rule 100003: <options>']) {
      assert.ok(found.includes(want), `${want} in ${found.join(' | ')}`);
    }
    assert.ok(r.error.every((i) => i.file === '/var/ossec/rules/local_rules.xml'));
    assert.match(r.error.find((i) => i.key === 'rule 100002: <srcip>')?.message ?? '', /unknown or unsupported tag <srcip>/);
  });
  it('reports malformed XML with its line', () => {
    const r = parseRulesXml('<group name="a">\n<rule id="1" level="1">\n</rul>\n</group>', 'r.xml', noLists);
    assert.ok(!r.ok);
    assert.equal(r.error[0]?.line, 3);
  });
});

describe('RuleSet.compile', () => {
  const parse = (text: string) => {
    const r = parseRulesXml(text, 'r.xml', noLists);
    assert.ok(r.ok);
    return r.value;
  };
  it('refuses a duplicate id unless overwrite="yes", and a parent that does not exist', () => {
    const a = parse('<group name="g"><rule id="10" level="1"><match>a</match></rule><rule id="10" level="2"><match>b</match></rule><rule id="11" level="1"><if_sid>99</if_sid></rule></group>');
    const r = RuleSet.compile(a);
    assert.ok(!r.ok);
    assert.deepEqual(r.error.map((i) => i.message), ['duplicate rule id 10 (use overwrite="yes" to replace it)', 'refers to rule 99, which does not exist']);
    const b = parse('<group name="g"><rule id="10" level="1"><match>a</match></rule><rule id="10" level="2" overwrite="yes"><match>b</match></rule></group>');
    const ok = RuleSet.compile(b);
    assert.ok(ok.ok);
    assert.equal(ok.value.rules.find((r2) => r2.id === 10)?.level, 2);
  });
});
