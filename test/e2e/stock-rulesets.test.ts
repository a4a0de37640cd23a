import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { CUSTOS_BIN, jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

// Fixtures written for these tests, following the structure of the files OSSEC 3.x and Wazuh 4.x install (an
// `etc/ossec.conf` that names its rules as each product does, rule files that mix log and FIM rules, a
// local_rules.xml with an sshd example and a level-0 FIM rule). None of the products' files is copied here.

/** Writes `files` (path relative to `root` → content) and returns `root`. */
function tree(root: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const SYSLOG_RULES = `<var name="BAD_WORDS">core_dumped|failure|error|attack</var>
<group name="syslog,">
  <rule id="1" level="0" noalert="1">
    <category>syslog</category>
    <description>Generic template for all syslog rules.</description>
  </rule>
  <rule id="1002" level="2">
    <if_sid>1</if_sid>
    <match>$BAD_WORDS</match>
    <options>alert_by_email</options>
    <description>Unknown problem somewhere in the system.</description>
  </rule>
</group>
`;

const SSHD_RULES = `<group name="syslog,sshd,">
  <rule id="5700" level="0" noalert="1">
    <decoded_as>sshd</decoded_as>
    <description>SSHD messages grouped.</description>
  </rule>
  <rule id="5710" level="5">
    <if_sid>5700</if_sid>
    <match>illegal user|invalid user</match>
    <description>sshd: Attempt to login using a non-existent user</description>
    <group>invalid_login,authentication_failed,</group>
  </rule>
  <rule id="5712" level="10" frequency="6" timeframe="120" ignore="60">
    <if_matched_sid>5710</if_matched_sid>
    <same_source_ip />
    <description>sshd: brute force trying to get access to the system.</description>
  </rule>
  <rule id="5716" level="5">
    <if_sid>5700</if_sid>
    <pcre2>^Failed \\S+ for</pcre2>
    <description>sshd: authentication failed.</description>
  </rule>
</group>
`;

/** OSSEC-style: the syscheck rules as in OSSEC 3.x, 551/552 through their own decoders. */
const OSSEC_RULES = `<group name="ossec,">
  <rule id="500" level="0">
    <category>ossec</category>
    <decoded_as>ossec</decoded_as>
    <description>Grouping of ossec rules.</description>
  </rule>
  <rule id="501" level="3">
    <if_sid>500</if_sid>
    <if_fts />
    <match>Agent started</match>
    <description>New ossec agent connected.</description>
  </rule>
  <rule id="550" level="7">
    <category>ossec</category>
    <decoded_as>syscheck_integrity_changed</decoded_as>
    <description>Integrity checksum changed.</description>
    <group>syscheck,</group>
  </rule>
  <rule id="551" level="7">
    <category>ossec</category>
    <decoded_as>syscheck_integrity_changed_2nd</decoded_as>
    <description>Integrity checksum changed again (2nd time).</description>
    <group>syscheck,</group>
  </rule>
  <rule id="552" level="7">
    <category>ossec</category>
    <decoded_as>syscheck_integrity_changed_3rd</decoded_as>
    <description>Integrity checksum changed again (3rd time).</description>
    <group>syscheck,</group>
  </rule>
  <rule id="553" level="7">
    <category>ossec</category>
    <decoded_as>syscheck_deleted</decoded_as>
    <description>File deleted. Unable to retrieve checksum.</description>
    <group>syscheck,</group>
  </rule>
  <rule id="554" level="7">
    <category>ossec</category>
    <decoded_as>syscheck_new_entry</decoded_as>
    <description>File added to the system.</description>
    <group>syscheck,</group>
  </rule>
  <rule id="555" level="7">
    <if_sid>500</if_sid>
    <match>^ossec: agentless: </match>
    <description>Integrity checksum for agentless device changed.</description>
    <group>syscheck,agentless,</group>
  </rule>
</group>
`;

/** Wazuh-style: 550/553/554 with ATT&CK ids and compliance groups, registry rules for Windows agents. */
const WAZUH_OSSEC_RULES = `<group name="ossec,">
  <rule id="500" level="0">
    <category>ossec</category>
    <decoded_as>ossec</decoded_as>
    <description>Grouping of ossec rules.</description>
  </rule>
  <rule id="502" level="3">
    <if_sid>500</if_sid>
    <match>Ossec started</match>
    <description>Ossec server started.</description>
  </rule>
  <rule id="550" level="7">
    <category>ossec</category>
    <decoded_as>syscheck_integrity_changed</decoded_as>
    <description>Integrity checksum changed.</description>
    <mitre>
      <id>T1565.001</id>
    </mitre>
    <group>syscheck,syscheck_entry_modified,syscheck_file,pci_dss_11.5,gdpr_II_5.1.f,</group>
  </rule>
  <rule id="553" level="7">
    <category>ossec</category>
    <decoded_as>syscheck_deleted</decoded_as>
    <description>File deleted.</description>
    <group>syscheck,syscheck_entry_deleted,syscheck_file,pci_dss_11.5,</group>
  </rule>
  <rule id="554" level="5">
    <category>ossec</category>
    <decoded_as>syscheck_new_entry</decoded_as>
    <description>File added to the system.</description>
    <group>syscheck,syscheck_entry_added,syscheck_file,pci_dss_11.5,</group>
  </rule>
  <rule id="594" level="5">
    <category>ossec</category>
    <decoded_as>syscheck_registry_key_modified</decoded_as>
    <group>syscheck,syscheck_entry_modified,syscheck_registry,</group>
    <description>Registry Key Integrity Checksum Changed</description>
  </rule>
  <rule id="598" level="5">
    <category>ossec</category>
    <decoded_as>syscheck_registry_key_added</decoded_as>
    <group>syscheck,syscheck_entry_added,syscheck_registry,</group>
    <description>Registry Key Entry Added to the System</description>
  </rule>
</group>
`;

const LOCAL_RULES = `<group name="local,syslog,sshd,">
  <!-- The example every install ships: an sshd rule, for one address -->
  <rule id="100001" level="5">
    <if_sid>5716</if_sid>
    <srcip>1.1.1.1</srcip>
    <description>sshd: authentication failed from IP 1.1.1.1.</description>
    <group>authentication_failed,</group>
  </rule>
</group>
<group name="local,syscheck,">
  <rule id="100002" level="0">
    <if_sid>550</if_sid>
    <match>/motd'</match>
    <description>The message of the day changes every boot.</description>
  </rule>
</group>
`;

function ossecConf(ruleSection: string, tree: string): string {
  return `<ossec_config>
  <global>
    <email_notification>no</email_notification>
  </global>
  ${ruleSection}
  <syscheck>
    <frequency>79200</frequency>
    <directories check_all="yes">${tree}</directories>
    <ignore>/etc/mtab</ignore>
    <ignore>C:\\WINDOWS/System32/LogFiles</ignore>
    <ignore type="sregex">.log$|.swp$</ignore>
  </syscheck>
  <rootcheck>
    <rootkit_files>/var/ossec/etc/shared/rootkit_files.txt</rootkit_files>
  </rootcheck>
  <localfile>
    <log_format>syslog</log_format>
    <location>/var/log/auth.log</location>
  </localfile>
</ossec_config>
`;
}

async function check(args: readonly string[]): Promise<{ code: number | null; alerts: Alert[]; stderr: string }> {
  const r = await runCustos(['check', '--json', ...args]);
  return { code: r.code, alerts: jsonLines<Alert>(r.stdout), stderr: r.stderr };
}

describe('an OSSEC 3.x install: <rules><include> from <root>/rules/', () => {
  const dir = tempDir();
  const monitored = join(dir, 'monitored');
  mkdirSync(monitored);
  const root = tree(join(dir, 'var-ossec'), {
    'etc/ossec.conf': ossecConf(
      `<rules>
    <include>rules_config.xml</include>
    <include>sshd_rules.xml</include>
    <include>ossec_rules.xml</include>
    <include>local_rules.xml</include>
  </rules>`,
      monitored,
    ),
    'rules/rules_config.xml': SYSLOG_RULES,
    'rules/sshd_rules.xml': SSHD_RULES,
    'rules/ossec_rules.xml': OSSEC_RULES,
    'rules/local_rules.xml': LOCAL_RULES,
  });
  const args = ['--config', join(root, 'etc/ossec.conf'), '--db', join(dir, 'custos.db')];

  it('loads as shipped: exit 0, one summary per file for the log rules, 551/552 taken as FIM rules', async () => {
    writeFileSync(join(monitored, 'motd'), 'welcome\n');
    writeFileSync(join(monitored, 'passwd'), 'root:x:0:0\n');
    const r = await check(args);
    assert.equal(r.code, 0, r.stderr);
    const rules = join(root, 'rules');
    assert.match(r.stderr, new RegExp(`${rules}/rules_config.xml: rules: 2 of 2 rules skipped: they can never match a FIM event`));
    assert.match(r.stderr, new RegExp(`${rules}/sshd_rules.xml: rules: 4 of 4 rules skipped`));
    assert.match(r.stderr, new RegExp(`${rules}/ossec_rules.xml: rules: 3 of 8 rules skipped`));
    assert.match(r.stderr, new RegExp(`${rules}/local_rules.xml: rules: 1 of 2 rules skipped: .*rule 100001: <srcip>`));
    assert.doesNotMatch(r.stderr, /rule 55[12]/, 'no warning about 551 or 552');
    assert.equal(r.stderr.match(/Windows path/g)?.length, 1);
  });

  it("matches FIM events as OSSEC's rules say: the level-0 local rule silences motd, the stock 550/553/554 alert", async () => {
    writeFileSync(join(monitored, 'motd'), 'welcome back\n');
    writeFileSync(join(monitored, 'passwd'), 'root:x:0:0\nmallory:x:0:0\n');
    writeFileSync(join(monitored, 'shadow'), 'mallory:!:1\n');
    const r = await check(args);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.alerts.map((a) => `${String(a.rule.id)} ${a.rule.level} ${a.syscheck.path.slice(monitored.length)} ${a.rule.description}`).sort(), [
      '550 7 /passwd Integrity checksum changed.',
      '554 7 /shadow File added to the system.',
    ]);
    const events = jsonLines<{ outcome: string; reason?: string; syscheck: { path: string } }>((await runCustos(['events', '--json', ...args])).stdout);
    const motd = events.find((e) => e.syscheck.path.endsWith('/motd'));
    assert.equal(motd?.outcome, 'recorded');
    assert.match(motd?.reason ?? '', /rule 100002 \(level 0\)/);
  });

  it("raises OSSEC's 551 and 552 on a file's 2nd and 3rd change (counted from the history, across runs), then 550 again", async () => {
    const seen: string[] = [];
    for (const [i, text] of ['mallory:x:0:0\n', 'eve:x:0:0\n', 'trudy:x:0:0\n'].entries()) {
      writeFileSync(join(monitored, 'passwd'), `root:x:0:0\n${text}`.repeat(i + 1));
      // Each check is a new process: the count can only come from what the history holds.
      const r = await check(args);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.alerts.length, 1, JSON.stringify(r.alerts));
      const [alert] = r.alerts;
      seen.push(`${String(alert?.rule.id)} ${alert?.rule.description} ${alert?.decoder.name}`);
    }
    assert.deepEqual(seen, [
      '551 Integrity checksum changed again (2nd time). syscheck_integrity_changed_2nd',
      '552 Integrity checksum changed again (3rd time). syscheck_integrity_changed_3rd',
      // OSSEC stops reporting the file here (its auto-ignore); Custos never goes silent.
      '550 Integrity checksum changed. syscheck_integrity_changed',
    ]);
    // `custos rules test` replays an alert through the same decoder: its 551 stays a 551.
    const replay = spawnSync(process.execPath, [CUSTOS_BIN, 'rules', 'test', '--json', '--config', join(root, 'etc/ossec.conf')], {
      input: (await runCustos(['alerts', '--json', ...args])).stdout,
      encoding: 'utf8',
    });
    assert.equal(replay.status, 0, replay.stderr);
    const ends = jsonLines<{ rule?: { id: number | string } }>(replay.stdout).map((o) => String(o.rule?.id));
    assert.deepEqual(ends, ['550', '554', '551', '552', '550']);
  });
});

describe('a Wazuh 4.x install: <ruleset> with <rule_dir>, <rule_exclude>, <list> and etc/rules/', () => {
  const dir = tempDir();
  const monitored = join(dir, 'monitored');
  mkdirSync(monitored);
  const root = tree(join(dir, 'var-ossec'), {
    'etc/ossec.conf': ossecConf(
      `<ruleset>
    <decoder_dir>ruleset/decoders</decoder_dir>
    <rule_dir>ruleset/rules</rule_dir>
    <rule_exclude>0215-policy_rules.xml</rule_exclude>
    <list>etc/lists/audit-keys</list>
    <decoder_dir>etc/decoders</decoder_dir>
    <rule_dir>etc/rules</rule_dir>
  </ruleset>`,
      monitored,
    ),
    'ruleset/rules/0010-rules_config.xml': SYSLOG_RULES,
    'ruleset/rules/0015-ossec_rules.xml': WAZUH_OSSEC_RULES,
    'ruleset/rules/0095-sshd_rules.xml': SSHD_RULES,
    // Excluded: were it read, its broken XML would refuse the configuration.
    'ruleset/rules/0215-policy_rules.xml': '<group name="policy,"><rule id="17101" level="9">\n',
    'ruleset/rules/README.md': 'not a rules file\n',
    'etc/lists/audit-keys': 'audit-wazuh-w:write\n',
    'etc/rules/local_rules.xml': LOCAL_RULES,
  });
  const args = ['--config', join(root, 'etc/ossec.conf'), '--db', join(dir, 'custos.db')];

  it("loads as shipped (exit 0) and alerts with the stock rule set's own 550", async () => {
    writeFileSync(join(monitored, 'motd'), 'welcome\n');
    writeFileSync(join(monitored, 'hosts'), '127.0.0.1 localhost\n');
    const first = await check(args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /0015-ossec_rules.xml: rules: 4 of 7 rules skipped: .*rule 500: <decoded_as>ossec/);
    assert.match(first.stderr, /etc\/rules\/local_rules.xml: rules: 1 of 2 rules skipped/);
    assert.doesNotMatch(first.stderr, /0215-policy_rules|README/);
    writeFileSync(join(monitored, 'motd'), 'welcome back\n');
    writeFileSync(join(monitored, 'hosts'), '127.0.0.1 localhost\n10.6.6.6 evil\n');
    const second = await check(args);
    assert.equal(second.code, 1, second.stderr);
    assert.equal(second.alerts.length, 1, JSON.stringify(second.alerts));
    const [alert] = second.alerts;
    assert.equal(String(alert?.rule.id), '550');
    assert.equal(alert?.syscheck.path, join(monitored, 'hosts'));
    assert.ok(alert?.rule.groups.includes('syscheck_entry_modified'), JSON.stringify(alert?.rule.groups));
  });
});
