import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRulesXml } from './parse-rules-xml.js';
import { RuleSet } from './rule-set.js';
import { selectFimRules } from './select-fim-rules.js';

const noLists = (): undefined => undefined;

describe('parseRulesXml', () => {
  it('reads a rule with its conditions and groups', () => {
    const r = parseRulesXml(
      '<group name="local,syscheck,">\n<rule id="100001" level="0">\n<if_group>syscheck</if_group>\n<match>/etc/hosts</match>\n<description>x</description>\n<group>quiet,</group>\n</rule>\n</group>',
      'local_rules.xml',
      noLists,
    );
    assert.ok(r.ok);
    const rule = r.value[0]?.definition;
    assert.equal(rule?.id, 100001);
    assert.deepEqual(rule?.groups, ['local', 'syscheck', 'quiet']);
    assert.deepEqual(rule?.ifGroup, ['syscheck']);
    assert.equal(rule?.source.line, 2);
  });
  it('reports every problem of a FIM rule with file, line and rule id; a log rule is skipped, not refused', () => {
    const text = [
      '<group name="local,syscheck,">', //              1
      '  <rule id="100001" level="20">', //             2
      '    <match>x</match>', //                        3
      '  </rule>', //                                   4
      '  <rule id="100002" level="5">', //              5
      '    <srcip>10.0.0.1</srcip>', //                 6
      '    <regex>\\q</regex>', //                      7
      '  </rule>', //                                   8
      '  <rule id="100003" level="3">', //              9
      '    <if_sid>550</if_sid>', //                   10
      '    <list field="md5">lists/none</list>', //    11
      '  </rule>', //                                  12
      '</group>',
    ].join('\n');
    const r = parseRulesXml(text, '/var/ossec/rules/local_rules.xml', noLists);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    const selected = selectFimRules(r.value);
    const found = selected.errors.map((i) => `${i.line}:${i.key}`);
    assert.deepEqual(found.sort(), ['11:rule 100003: <list>', '2:rule 100001']);
    assert.ok(selected.errors.every((i) => i.file === '/var/ossec/rules/local_rules.xml'));
    assert.deepEqual(selected.definitions, [], 'no rule with an error is kept');
    assert.equal(selected.warnings.length, 1);
    assert.match(selected.warnings[0]?.message ?? '', /^1 of 3 rules skipped: they can never match a FIM event .*rule 100002: <srcip>/);
  });
  it('skips a FIM rule that needs what Custos does not do, naming file, line and tag, and the rules under it', () => {
    const text = [
      '<group name="syscheck,">', //                              1
      '  <rule id="100010" level="7">', //                        2
      '    <if_sid>550</if_sid>', //                              3
      '    <options>no_full_log</options>', //                    4
      '  </rule>', //                                             5
      '  <rule id="100011" level="9">', //                        6
      '    <if_sid>100010</if_sid>', //                           7
      '    <match>shadow</match>', //                             8
      '  </rule>', //                                             9
      '  <rule id="100012" level="3" noalert="1">', //           10
      '    <if_sid>554</if_sid>', //                             11
      '    <options>alert_by_email</options>', //                12
      '  </rule>', //                                            13
      '  <rule id="100013" level="0">', //                       14
      '    <if_sid>550</if_sid>', //                             15
      '    <match>/etc/mtab</match>', //                         16
      '    <mitre><id>T1565.001</id></mitre>', //                17
      '    <info type="text">kept quiet</info>', //              18
      '  </rule>', //                                            19
      '</group>',
    ].join('\n');
    const r = parseRulesXml(text, 'local_rules.xml', noLists);
    assert.ok(r.ok);
    const selected = selectFimRules(r.value);
    assert.deepEqual(selected.errors, []);
    assert.deepEqual(
      selected.definitions.map((d) => d.id),
      [100013],
    );
    assert.deepEqual(selected.definitions[0]?.mitre, ['T1565.001']);
    assert.deepEqual(
      selected.warnings.map((w) => `${w.line}:${w.key}`),
      ['4:rule 100010: <options>no_full_log', '10:rule 100012: attribute "noalert"', '6:rule 100011'],
    );
    assert.match(selected.warnings[0]?.message ?? '', /not supported by Custos for FIM rules: the rule is skipped/);
  });
  it("compiles Wazuh's PCRE2 patterns to linear-time matchers, and refuses what RE2 cannot do at load time", () => {
    const text = [
      '<group name="syscheck,">', //                                                 1
      '  <rule id="100030" level="9">', //                                           2
      '    <if_sid>550</if_sid>', //                                                 3
      "    <pcre2>'/etc/(shadow|gshadow)'</pcre2>", //                               4
      '    <field name="file" type="pcre2">^/etc/</field>', //                      5
      '  </rule>', //                                                                6
      '  <rule id="100031" level="9">', //                                           7
      '    <if_sid>550</if_sid>', //                                                 8
      '    <regex type="pcre2">^Integrity .*\'/etc/(?!hosts)</regex>', //          9
      '  </rule>', //                                                               10
      '</group>',
    ].join('\n');
    const r = parseRulesXml(text, 'local_rules.xml', noLists);
    assert.ok(r.ok);
    const selected = selectFimRules(r.value);
    assert.deepEqual(
      selected.errors.map((e) => `${e.line}:${e.key}`),
      ['7:rule 100031: <pcre2>'],
    );
    assert.match(selected.errors[0]?.message ?? '', /PCRE2 pattern .* cannot be used: .*no lookaround/);
    const rule = selected.definitions[0];
    assert.equal(rule?.id, 100030);
    assert.equal(rule?.pcre2?.test("Integrity checksum changed for: '/etc/gshadow'"), true);
    assert.equal(rule?.pcre2?.test("Integrity checksum changed for: '/ETC/SHADOW'"), false, 'case-sensitive, as PCRE2');
    assert.equal(rule?.fields[0]?.regex.test('/etc/shadow'), true);
    // A pattern that backtracks exponentially in PCRE2 answers at once here.
    const hostile = parseRulesXml('<group name="g"><rule id="100032" level="1"><if_sid>550</if_sid><pcre2>^(a+)+$</pcre2></rule></group>', 'r.xml', noLists);
    assert.ok(hostile.ok);
    assert.equal(hostile.value[0]?.definition.pcre2?.test(`${'a'.repeat(4000)}!`), false);
  });
  it('skips whole log rule trees (if_sid chains, if_group on log groups) with one summary per file, and reads <var>', () => {
    const text = [
      '<var name="WATCHED">/etc/shadow|/etc/gshadow</var>',
      '<group name="syslog,sshd,">',
      '  <rule id="5700" level="0" noalert="1"><decoded_as>sshd</decoded_as><description>sshd</description></rule>',
      '  <rule id="5710" level="5"><if_sid>5700</if_sid><match>illegal user</match><group>authentication_failed,</group></rule>',
      '  <rule id="5712" level="10" frequency="8" timeframe="120"><if_matched_sid>5710</if_matched_sid><same_source_ip /></rule>',
      '  <rule id="5720" level="10"><if_group>authentication_failed</if_group><pcre2>x</pcre2></rule>',
      '</group>',
      '<group name="syscheck,">',
      '  <rule id="100020" level="12"><if_sid>550</if_sid><match>$WATCHED</match></rule>',
      '</group>',
    ].join('\n');
    const r = parseRulesXml(text, 'mixed.xml', noLists);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    const builtin = parseRulesXml(
      '<group name="ossec,syscheck,"><rule id="550" level="7"><decoded_as>syscheck_integrity_changed</decoded_as></rule></group>',
      'builtin.xml',
      noLists,
    );
    assert.ok(builtin.ok);
    const selected = selectFimRules([...builtin.value, ...r.value]);
    assert.deepEqual(selected.errors, []);
    assert.deepEqual(
      selected.definitions.map((d) => d.id),
      [550, 100020],
    );
    assert.equal(selected.definitions[1]?.match?.test("Integrity checksum changed for: '/etc/gshadow'"), true);
    assert.deepEqual(
      selected.warnings.map((w) => `${w.file}:${w.key}`),
      ['mixed.xml:rules'],
    );
    assert.match(selected.warnings[0]?.message ?? '', /^4 of 5 rules skipped: .*rule 5700: <decoded_as>sshd/);
  });
  it('lets a stock file redefine a built-in rule (550, 553, 554) without overwrite="yes"', () => {
    const builtin = parseRulesXml(
      '<group name="ossec,syscheck,"><rule id="550" level="7"><decoded_as>syscheck_integrity_changed</decoded_as></rule></group>',
      'builtin.xml',
      noLists,
    );
    const stock = parseRulesXml(
      '<group name="ossec,"><rule id="550" level="7"><category>ossec</category><decoded_as>syscheck_integrity_changed</decoded_as><description>Integrity checksum changed.</description><group>syscheck,pci_dss_11.5,</group></rule></group>',
      'ossec_rules.xml',
      noLists,
    );
    assert.ok(builtin.ok && stock.ok);
    const selected = selectFimRules([...builtin.value, ...stock.value], new Set([550]));
    const compiled = RuleSet.compile(selected.definitions);
    assert.ok(compiled.ok, JSON.stringify(!compiled.ok && compiled.error));
    assert.deepEqual(compiled.value.rules.find((x) => x.id === 550)?.groups, ['ossec', 'syscheck', 'pci_dss_11.5']);
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
    return r.value.map((x) => x.definition);
  };
  it('refuses a duplicate id unless overwrite="yes", and a parent that does not exist', () => {
    const a = parse(
      '<group name="g"><rule id="10" level="1"><match>a</match></rule><rule id="10" level="2"><match>b</match></rule><rule id="11" level="1"><if_sid>99</if_sid></rule></group>',
    );
    const r = RuleSet.compile(a);
    assert.ok(!r.ok);
    assert.deepEqual(
      r.error.map((i) => i.message),
      ['duplicate rule id 10 (use overwrite="yes" to replace it)', 'refers to rule 99, which does not exist'],
    );
    const b = parse('<group name="g"><rule id="10" level="1"><match>a</match></rule><rule id="10" level="2" overwrite="yes"><match>b</match></rule></group>');
    const ok = RuleSet.compile(b);
    assert.ok(ok.ok);
    assert.equal(ok.value.rules.find((r2) => r2.id === 10)?.level, 2);
  });
});
