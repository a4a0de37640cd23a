import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Alert } from '../../src/core/build-alert.js';
import { CustosService } from '../support/custos-service.js';
import { FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/** One alert as OSSEC's contrib parsers (ossec2mysql.pl, ossectop.pl) read it from alerts.log. */
interface ParsedOssecAlert {
  readonly timestamp: string;
  readonly offset: string;
  readonly date: string;
  readonly host: string;
  readonly location: string;
  readonly rule: string;
  readonly level: string;
  readonly description: string;
}

/**
 * The parsing loop of OSSEC's contrib/ossec2mysql.pl, with its own line patterns (written here in TypeScript): an
 * alert starts at `** Alert <seconds>.<offset>:`, then the date and `host->location` line, then `Rule: <id>
 * (level <n>) -> '<description>'`. A line these patterns do not take leaves the field unset, as in the script.
 */
function parseLikeOssec2mysql(log: string): ParsedOssecAlert[] {
  const alerts: ParsedOssecAlert[] = [];
  let current: Partial<Record<keyof ParsedOssecAlert, string>> | undefined;
  const flush = (): void => {
    if (current !== undefined) alerts.push(current as ParsedOssecAlert);
    current = undefined;
  };
  for (const line of log.split('\n')) {
    const header = /^\*\* Alert ([0-9]+).([0-9]+):(.*)$/.exec(line);
    if (header !== null) {
      flush();
      current = { timestamp: header[1] as string, offset: header[2] as string };
      continue;
    }
    if (current === undefined) continue;
    const dated = /^([0-9]+\s\w+\s[0-9]+\s[0-9]+:[0-9]+:[0-9]+)\s(.*?)->(.*)$/.exec(line);
    const rule = /^Rule: ([0-9]+) \(level ([0-9]+)\) -> '(.*)'$/.exec(line);
    if (dated !== null && current.date === undefined) Object.assign(current, { date: dated[1], host: dated[2], location: dated[3] });
    else if (rule !== null) Object.assign(current, { rule: rule[1], level: rule[2], description: rule[3] });
  }
  flush();
  return alerts;
}

/** A `/var/ossec`-like install: `etc/ossec.conf` as an OSSEC user has it, monitoring `tree`. */
function ossecInstall(syscheckExtra: string): { dir: string; tree: string; conf: string; args: string[] } {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  mkdirSync(join(dir, 'ossec', 'etc'), { recursive: true });
  const conf = join(dir, 'ossec', 'etc', 'ossec.conf');
  writeConf(conf, tree, syscheckExtra);
  return { dir, tree, conf, args: ['--config', conf, '--db', join(dir, 'data', 'custos.db')] };
}

function writeConf(conf: string, tree: string, syscheckExtra: string, globalExtra = ''): void {
  writeFileSync(
    conf,
    `<ossec_config>
  <global>
    <email_notification>no</email_notification>
    ${globalExtra}
  </global>
  <syscheck>
    ${syscheckExtra}
    <frequency>79200</frequency>
    <scan_time>21pm</scan_time>
    <scan_day>monday</scan_day>
    <directories check_all="yes">${tree}</directories>
    <ignore>C:\\WINDOWS/System32/LogFiles</ignore>
    <ignore>%WINDIR%/SoftwareDistribution</ignore>
    <windows_registry>HKEY_LOCAL_MACHINE\\Software\\Classes\\batfile</windows_registry>
  </syscheck>
</ossec_config>
`,
  );
}

describe("an OSSEC user moves over: alerts.log read by OSSEC's own parsers", () => {
  const install = ossecInstall('');
  before(() => writeFileSync(join(install.tree, 'passwd'), 'root:x:0:0::/root:/bin/sh\n'));

  it('loads a Linux ossec.conf that carries Windows lines, one warning each, exit 0', async () => {
    const r = await runCustos(['check', ...install.args]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/Windows path ".*" skipped/g)?.length, 2, r.stderr);
    assert.equal(r.stderr.match(/Windows registry key ".*" skipped/g)?.length, 1, r.stderr);
  });

  it("writes alerts.log headers that ossec2mysql.pl's patterns take, with the ids alerts.json has", async () => {
    writeFileSync(join(install.tree, 'passwd'), 'root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n');
    writeFileSync(join(install.tree, 'shadow'), 'evil:!:1::::::\n');
    const r = await runCustos(['check', ...install.args]);
    assert.equal(r.code, 1, r.stderr);
    const json = jsonLines<Alert>(readFileSync(join(install.dir, 'data', 'alerts.json'), 'utf8'));
    const parsed = parseLikeOssec2mysql(readFileSync(join(install.dir, 'data', 'alerts.log'), 'utf8'));
    assert.equal(parsed.length, 2);
    assert.deepEqual(parsed.map((p) => `${p.timestamp}.${p.offset}`).sort(), json.map((a) => a.id).sort());
    for (const p of parsed) {
      const alert = json.find((a) => a.id === `${p.timestamp}.${p.offset}`);
      assert.ok(alert !== undefined);
      assert.equal(p.rule, String(alert.rule.id));
      assert.equal(p.level, String(alert.rule.level));
      assert.equal(p.description, alert.rule.description);
      assert.equal(p.location, 'syscheck');
      assert.match(p.date, /^\d{4} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d$/);
      assert.equal(Number(p.timestamp), Math.floor(Date.parse(alert.timestamp) / 1000));
    }
    assert.deepEqual(parsed.map((p) => p.rule).sort(), ['550', '554']);
  });
});

describe('a hostile <regex> against a long path an intruder created', () => {
  const install = ossecInstall('');
  // 4,000 bytes and more: fifteen directories and a file name of 249 word characters each.
  const names = Array.from({ length: 16 }, (_v, i) => `${String.fromCharCode(97 + i)}${'w'.repeat(248)}`);
  before(() => {
    mkdirSync(join(install.dir, 'ossec', 'rules'));
    writeFileSync(
      join(install.dir, 'ossec', 'rules', 'local_rules.xml'),
      `<group name="local,syscheck,">
  <rule id="100100" level="10">
    <if_sid>554</if_sid>
    <regex>\\w*\\w*\\w*\\w*\\w*\\w*\\w*!'</regex>
    <description>Shouting file name</description>
  </rule>
</group>
`,
    );
    writeFileSync(
      install.conf,
      readFileSync(install.conf, 'utf8').replace('</ossec_config>', '  <rules>\n    <include>local_rules.xml</include>\n  </rules>\n</ossec_config>'),
    );
  });

  it('finishes the check with the rule loaded, and matches only what the pattern says', async () => {
    assert.equal((await runCustos(['check', ...install.args])).code, 0);
    const deep = join(install.tree, ...names.slice(0, -1));
    mkdirSync(deep, { recursive: true });
    const long = join(deep, names.at(-1) as string);
    assert.ok(Buffer.byteLength(long) >= 4000, String(Buffer.byteLength(long)));
    writeFileSync(long, 'x\n');
    writeFileSync(join(install.tree, 'loud!'), 'x\n');
    const r = await runCustos(['check', '--json', ...install.args], { timeoutMs: 120_000 });
    assert.equal(r.code, 1, `the check did not finish: ${r.stderr}`);
    const alerts = jsonLines<Alert>(r.stdout);
    const byPath = new Map(alerts.map((a) => [a.syscheck.path, String(a.rule.id)]));
    assert.equal(byPath.get(long), '554');
    // "New file '…/loud!' added": the only path that ends in `!` right before its closing quote.
    assert.equal(byPath.get(join(install.tree, 'loud!')), '100100');
  });
});

describe('<disabled>yes</disabled> turns syscheck off', () => {
  const install = ossecInstall('');
  before(() => writeFileSync(join(install.tree, 'hosts'), '127.0.0.1 localhost\n'));

  it('scans nothing, says so once, exits 0, and keeps the baseline for when it is enabled again', async () => {
    assert.equal((await runCustos(['check', ...install.args])).code, 0);
    writeConf(install.conf, install.tree, '<disabled>yes</disabled>');
    writeFileSync(join(install.tree, 'hosts'), '127.0.0.1 localhost\n10.6.6.6 evil\n');
    const off = await runCustos(['check', '--json', ...install.args]);
    assert.equal(off.code, 0, off.stderr);
    assert.equal(off.stdout, '');
    assert.equal(off.stderr.match(/syscheck is disabled/g)?.length, 1, off.stderr);
    assert.doesNotMatch(off.stderr, /scanned \d+ entries/);
    assert.doesNotMatch(off.stderr, /disabled.*not used|unsupported <syscheck> option <disabled>/);
    writeConf(install.conf, install.tree, '<disabled>no</disabled>');
    const on = await runCustos(['check', '--json', ...install.args]);
    assert.equal(on.code, 1, on.stderr);
    const alerts = jsonLines<Alert>(on.stdout);
    assert.deepEqual(
      alerts.map((a) => `${String(a.rule.id)} ${a.syscheck.path}`),
      [`550 ${join(install.tree, 'hosts')}`],
    );
  });
});

describe("OSSEC's md5 allowlist, configured in <global>", () => {
  const install = ossecInstall('');
  const allowed = 'vendor blob v2\n';
  const md5 = (text: string): string => createHash('md5').update(text).digest('hex');
  before(() => {
    // OSSEC's md5 allowlist: an SQLite file with its files(md5sum, file, time) table.
    const db = new Database(join(install.dir, 'ossec', 'etc', 'md5_allowlist.db'));
    db.exec('CREATE TABLE files (md5sum TEXT NOT NULL, file TEXT NOT NULL, time INTEGER)');
    db.prepare('INSERT INTO files VALUES (?, ?, ?)').run(md5(allowed), '/opt/vendor/blob', 1_700_000_000);
    db.close();
    writeConf(install.conf, install.tree, '', '<md5_whitelist>' + join(install.dir, 'ossec', 'etc', 'md5_allowlist.db') + '</md5_whitelist>');
    writeFileSync(join(install.tree, 'blob'), 'vendor blob v1\n');
    writeFileSync(join(install.tree, 'config'), 'a=1\n');
  });

  it('records an allowlisted change, and an allowlisted new file, without alerting; the rest alerts', async () => {
    const first = await runCustos(['check', ...install.args]);
    assert.equal(first.code, 0, first.stderr);
    assert.doesNotMatch(first.stderr, /md5_whitelist/, 'read, not warned about');
    writeFileSync(join(install.tree, 'blob'), allowed);
    writeFileSync(join(install.tree, 'copy-elsewhere'), allowed);
    writeFileSync(join(install.tree, 'config'), 'a=2\n');
    const r = await runCustos(['check', '--json', ...install.args]);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      jsonLines<Alert>(r.stdout).map((a) => `${String(a.rule.id)} ${a.syscheck.path}`),
      [`550 ${join(install.tree, 'config')}`],
    );
    const events = jsonLines<{ outcome: string; reason?: string; syscheck: { path: string; event: string } }>(
      (await runCustos(['events', '--json', ...install.args])).stdout,
    );
    const why = (name: string): string => {
      const e = events.find((x) => x.syscheck.path === join(install.tree, name));
      return `${e?.syscheck.event} ${e?.outcome} ${e?.reason ?? ''}`;
    };
    const reason = `md5 allowlist ${join(install.dir, 'ossec', 'etc', 'md5_allowlist.db')}: ${md5(allowed)}`;
    assert.equal(why('blob'), `modified recorded ${reason}`);
    assert.equal(why('copy-elsewhere'), `added recorded ${reason}`);
  });

  it('refuses to run on an allowlist it cannot read, naming it', async () => {
    const other = ossecInstall('');
    writeConf(other.conf, other.tree, '', '<md5_allowlist>/nonexistent/md5.db</md5_allowlist>');
    const r = await runCustos(['check', ...other.args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /cannot use the md5 allowlist \/nonexistent\/md5\.db/);
  });
});

describe('<disabled>yes</disabled> on an agent', () => {
  const fleet = new FleetHarness(tempDir('custos-disabled-'));
  let manager: ManagerHandle | undefined;
  let agent: CustosService | undefined;
  after(async () => {
    await agent?.kill();
    await manager?.service.kill();
  });

  it('scans and sends nothing, and says so once', async () => {
    manager = await fleet.startManager();
    const watched = join(fleet.dir, 'watched');
    mkdirSync(watched);
    writeFileSync(join(watched, 'hosts'), '127.0.0.1 localhost\n');
    const data = join(fleet.dir, 'agent');
    const enrolled = await fleet.enroll(manager, 'off-host', data, ['--name', 'off-1']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const config = join(data, 'custos.yml');
    writeFileSync(config, `syscheck:\n  disabled: yes\n  scan_on_start: yes\n  directories:\n    - path: ${watched}\n      realtime: yes\n`);
    agent = new CustosService(['agent', 'start', '--data', data, '--config', config, '--keepalive', '1s']);
    // The scan on start is the one that finds syscheck off.
    await agent.waitForMessage('syscheck is disabled in the configuration: nothing is scanned', 30_000);
    writeFileSync(join(watched, 'hosts'), '127.0.0.1 localhost\n10.6.6.6 evil\n');
    // Keep-alives answered after that (the manager records each one): the agent is up and talking.
    const lastSeen = async (): Promise<string | undefined> =>
      jsonLines<{ id: string; lastSeen?: string }>((await runCustos(['manager', 'agents', '--json', '--data', fleet.managerData])).stdout).find(
        (a) => a.id === enrolled.id,
      )?.lastSeen;
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 3; i++) {
      const at = await lastSeen();
      if (at !== undefined) seen.add(at);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(seen.size >= 3, `keep-alives seen: ${[...seen].join(', ')}`);
    assert.equal(agent.lines.filter((l) => /syscheck is disabled/.test(l.msg)).length, 1, 'said once');
    assert.ok(!agent.lines.some((l) => l.msg === 'scan finished' || l.msg === 'watching in realtime'), agent.lines.map((l) => l.msg).join(' | '));
    const db = new Database(join(fleet.managerData, 'custos.db'), { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM baseline WHERE agent_id = ?').pluck().get(enrolled.id), 0, 'nothing was sent');
    } finally {
      db.close();
    }
    assert.deepEqual(fleet.fileAlerts(enrolled.id ?? '?'), []);
  });
});

describe("Wazuh's full_log wording, and an install root given with --ossec-root", () => {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  const root = join(dir, 'wazuh-install');
  // Kept away from <root>/etc/ossec.conf: the install cannot be inferred from where the configuration is.
  const conf = join(dir, 'conf', 'ossec-copy.conf');
  const args = ['--config', conf, '--db', join(dir, 'data', 'custos.db')];
  before(() => {
    mkdirSync(tree);
    mkdirSync(join(root, 'rules'), { recursive: true });
    mkdirSync(join(dir, 'conf'));
    // A rule written against Wazuh's text: it can only match when full_log is worded as Wazuh words it.
    writeFileSync(
      join(root, 'rules', 'local_rules.xml'),
      `<group name="local,syscheck,">
  <rule id="100400" level="12">
    <if_sid>550</if_sid>
    <match>Changed attributes: permission</match>
    <description>Permissions of a monitored file changed</description>
  </rule>
</group>
`,
    );
    writeFileSync(join(tree, 'tool'), '#!/bin/sh\n');
  });
  const writeConfig = (alerts: string): void =>
    writeFileSync(
      conf,
      `<ossec_config>
  <global><email_notification>no</email_notification></global>
  ${alerts}
  <rules><include>local_rules.xml</include></rules>
  <syscheck><directories check_all="yes">${tree}</directories></syscheck>
</ossec_config>
`,
    );

  it('cannot find <include>d rules without the install root, and finds them in <root>/rules/ with --ossec-root', async () => {
    writeConfig('');
    const lost = await runCustos(['check', ...args]);
    assert.equal(lost.code, 2, lost.stderr);
    assert.match(lost.stderr, /local_rules\.xml.*cannot read the rules file/);
    const found = await runCustos(['check', '--ossec-root', root, ...args]);
    assert.equal(found.code, 0, found.stderr);
  });

  it("matches a rule written for Wazuh's text only when full_log is Wazuh's", async () => {
    chmodSync(join(tree, 'tool'), 0o755);
    const ossecWords = await runCustos(['check', '--json', '--ossec-root', root, ...args]);
    assert.equal(ossecWords.code, 1, ossecWords.stderr);
    const [plain] = jsonLines<Alert>(ossecWords.stdout);
    assert.equal(String(plain?.rule.id), '550');
    assert.match(plain?.full_log ?? '', /^Integrity checksum changed for: /);
    writeConfig('<alerts><full_log>wazuh</full_log></alerts>');
    chmodSync(join(tree, 'tool'), 0o700);
    const wazuhWords = await runCustos(['check', '--json', ...args], { env: { CUSTOS_OSSEC_ROOT: root } });
    assert.equal(wazuhWords.code, 1, wazuhWords.stderr);
    const [alert] = jsonLines<Alert>(wazuhWords.stdout);
    assert.equal(String(alert?.rule.id), '100400');
    assert.equal(
      alert?.full_log,
      `File '${join(tree, 'tool')}' modified\nMode: scheduled\nChanged attributes: permission\nPermissions changed from 'rwxr-xr-x' to 'rwx------'\n`,
    );
    // alerts.json carries the same text the rule read.
    const lines = jsonLines<Alert>(readFileSync(join(dir, 'data', 'alerts.json'), 'utf8'));
    assert.equal(lines.at(-1)?.full_log, alert?.full_log);
  });
});
