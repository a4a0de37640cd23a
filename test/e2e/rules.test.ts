import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

interface EventJson {
  outcome: string;
  reason?: string;
  rule?: { id: number; level: number };
  syscheck: { path: string };
}

const SEED_RULE = `<group name="local,syscheck,">
  <rule id="100000" level="0">
    <if_group>syscheck</if_group>
    <description>Ignored file changes</description>
    <match>/etc/mnttab|/etc/hosts|/etc/resolv.conf</match>
    <hostname>srv1</hostname>
  </rule>
</group>
`;

function workspace(yaml: (tree: string, dir: string) => string): { dir: string; tree: string; args: string[] } {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  writeFileSync(join(dir, 'custos.yml'), yaml(tree, dir));
  return { dir, tree, args: ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db')] };
}

async function check(args: string[]): Promise<Alert[]> {
  const r = await runCustos(['check', '--json', ...args]);
  assert.ok(r.code === 0 || r.code === 1, r.stderr);
  return jsonLines<Alert>(r.stdout);
}

describe('rules: the seed example, end to end', () => {
  for (const host of ['srv1', 'srv2']) {
    it(`on ${host}: changes to /etc/hosts are ${host === 'srv1' ? 'silenced and still recorded' : 'alerted'}`, async () => {
      const ws = workspace((tree) => `agent:\n  name: ${host}\nrules:\n  files: [local_rules.xml]\nsyscheck:\n  directories:\n    - path: ${tree}\n`);
      writeFileSync(join(ws.dir, 'local_rules.xml'), SEED_RULE);
      for (const f of ['hosts', 'passwd', 'resolv.conf']) writeFileSync(join(ws.tree, 'etc', f), 'original\n');
      await check(ws.args);
      for (const f of ['hosts', 'passwd', 'resolv.conf']) writeFileSync(join(ws.tree, 'etc', f), 'changed!\n');
      const alerted = (await check(ws.args)).map((a) => a.syscheck.path.slice(ws.tree.length)).sort();
      assert.deepEqual(alerted, host === 'srv1' ? ['/etc/passwd'] : ['/etc/hosts', '/etc/passwd', '/etc/resolv.conf']);
      const events = jsonLines<EventJson>((await runCustos(['events', '--json', ...ws.args])).stdout);
      assert.equal(events.length, 3, 'every change stays in the history');
      if (host === 'srv1') {
        const hosts = events.find((e) => e.syscheck.path.endsWith('/etc/hosts'));
        assert.equal(hosts?.outcome, 'recorded');
        assert.equal(hosts?.reason, 'rule 100000 (level 0): Ignored file changes');
      }
    });
  }
});

describe('rules: an OSSEC ossec.conf and local_rules.xml from OSSEC documentation', () => {
  const dir = tempDir();
  const tree = join(dir, 'tree');
  const ossec = join(dir, 'ossec');
  mkdirSync(join(tree, 'var/lib/apt'), { recursive: true });
  mkdirSync(join(tree, 'etc'), { recursive: true });
  mkdirSync(join(ossec, 'etc'), { recursive: true });
  mkdirSync(join(ossec, 'rules'), { recursive: true });
  const conf = join(ossec, 'etc/ossec.conf');
  writeFileSync(
    conf,
    `<ossec_config>
  <syscheck>
    <frequency>79200</frequency>
    <directories check_all="yes">${tree}</directories>
    <ignore>${tree}/etc/mtab</ignore>
  </syscheck>
  <rules>
    <include>rules_config.xml</include>
    <include>local_rules.xml</include>
  </rules>
</ossec_config>
`,
  );
  // rules_config.xml ships with OSSEC; Custos's built-in rules play its part, so an empty group stands in here.
  writeFileSync(
    join(ossec, 'rules/rules_config.xml'),
    '<group name="config,">\n  <rule id="100" level="0">\n    <category>ossec</category>\n    <decoded_as>syscheck_deleted</decoded_as>\n    <match>^NEVER</match>\n    <description>placeholder</description>\n  </rule>\n</group>\n',
  );
  writeFileSync(
    join(ossec, 'rules/local_rules.xml'),
    `<!-- From OSSEC's documentation: ignore apt's state files, and alert on new files. -->
<group name="local,syscheck,">
  <rule id="100100" level="0">
    <if_group>syscheck</if_group>
    <match>for: '${tree}/var/lib/apt/</match>
    <description>ignore apt state</description>
  </rule>
</group>

<group name="ossec,">
  <rule id="554" level="7" overwrite="yes">
    <category>ossec</category>
    <decoded_as>syscheck_new_entry</decoded_as>
    <description>File added to the system.</description>
    <group>syscheck,</group>
  </rule>
</group>
`,
  );
  const args = ['--config', conf, '--db', join(dir, 'custos.db')];

  it('loads, and behaves as OSSEC documents it', async () => {
    writeFileSync(join(tree, 'var/lib/apt/extended_states'), 'a\n');
    writeFileSync(join(tree, 'etc/motd'), 'hello\n');
    const first = await runCustos(['check', ...args]);
    assert.equal(first.code, 0, first.stderr);
    writeFileSync(join(tree, 'var/lib/apt/extended_states'), 'b\n');
    writeFileSync(join(tree, 'etc/motd'), 'defaced\n');
    writeFileSync(join(tree, 'etc/new.conf'), 'new\n');
    writeFileSync(join(tree, 'etc/mtab'), 'ignored: never read\n');
    const alerts = await check(args);
    assert.deepEqual(alerts.map((a) => [a.syscheck.path.slice(tree.length), Number(a.rule.id), a.rule.level]).sort(), [
      ['/etc/motd', 550, 7],
      ['/etc/new.conf', 554, 7],
    ]);
  });

  it('reports a broken local rule with its file, line and rule id, and refuses to run', async () => {
    const local = join(ossec, 'rules/local_rules.xml');
    const good = readFileSync(local, 'utf8');
    writeFileSync(local, good.replace('<description>ignore apt state</description>', '<description>ignore apt state</description>\n    <regex>\\q</regex>'));
    try {
      const r = await runCustos(['check', ...args]);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`${local}:3: rule 100100: <regex>: invalid OSSEC regex "\\\\q": unknown escape \\q`), r.stderr);
    } finally {
      writeFileSync(local, good);
    }
  });

  it('skips a rule that tests a log field (it can never match a FIM event), with one summary warning, and runs', async () => {
    const local = join(ossec, 'rules/local_rules.xml');
    const good = readFileSync(local, 'utf8');
    writeFileSync(local, good.replace('<description>ignore apt state</description>', '<description>ignore apt state</description>\n    <srcport>22</srcport>'));
    try {
      const r = await runCustos(['check', ...args]);
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      assert.match(r.stderr, new RegExp(`warning: ${local}: rules: 1 of \\d+ rules skipped: they can never match a FIM event .*rule 100100: <srcport>`));
    } finally {
      writeFileSync(local, good);
    }
  });
});

describe('auto_ignore, safely', () => {
  it('alerts on three changes, rolls the fourth up into one alert, records them all, and reports the count later', async () => {
    const ws = workspace((tree) => `syscheck:\n  auto_ignore:\n    frequency: 3\n    timeframe: 1h\n  directories:\n    - path: ${tree}\n`);
    const file = join(ws.tree, 'etc', 'churn');
    writeFileSync(file, 'v0\n');
    await check(ws.args);
    const rules: number[] = [];
    for (let i = 1; i <= 5; i++) {
      writeFileSync(file, `v${i}${'!'.repeat(i)}\n`);
      rules.push(...(await check(ws.args)).map((a) => Number(a.rule.id)));
    }
    assert.deepEqual(rules, [550, 550, 550, 565], 'three alerts, one roll-up, then silence');
    const events = jsonLines<EventJson>((await runCustos(['events', '--json', ...ws.args])).stdout);
    assert.equal(events.length, 5, 'every change recorded, none dropped');
    assert.deepEqual(
      events.map((e) => e.outcome),
      ['alerted', 'alerted', 'alerted', 'alerted', 'recorded'],
    );
    assert.match(events[4]?.reason ?? '', /rolled up: the file changes too often/);
  });
});

describe('maintenance windows', () => {
  it('records changes without alerts during the window, and alerts again after it', async () => {
    const ws = workspace((tree) => `syscheck:\n  directories:\n    - path: ${tree}\n`);
    const file = join(ws.tree, 'etc', 'patched');
    writeFileSync(file, 'old\n');
    await check(ws.args);
    const start = await runCustos(['maintenance', 'start', '--for', '30m', '--reason', 'patch run', ...ws.args], { env: { SUDO_USER: 'alice' } });
    assert.match(start.stdout, /maintenance window 1 for every agent until/);
    writeFileSync(file, 'new\n');
    assert.deepEqual(await check(ws.args), []);
    const events = jsonLines<EventJson>((await runCustos(['events', '--json', ...ws.args])).stdout);
    assert.match(events[0]?.reason ?? '', /^maintenance window 1 \(started by alice, until /);
    assert.match((await runCustos(['maintenance', 'list', ...ws.args])).stdout, /^1 ACTIVE \* .* by alice: patch run/);
    await runCustos(['maintenance', 'stop', ...ws.args]);
    writeFileSync(file, 'newer\n');
    assert.deepEqual(
      (await check(ws.args)).map((a) => Number(a.rule.id)),
      [550],
    );
  });
});

describe('custos rules test', () => {
  it('prints the rule each alert line ends at, its level and the chain tried', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'local_rules.xml'), SEED_RULE);
    const event = (host: string) =>
      JSON.stringify({
        agent: { id: '001', name: host },
        syscheck: { path: '/etc/hosts', event: 'modified' },
        known_hash: { verdict: 'unknown' },
        full_log: "Integrity checksum changed for: '/etc/hosts'\nSize changed from '1' to '2'",
      });
    const { spawnSync } = await import('node:child_process');
    const { CUSTOS_BIN } = await import('../support/run-custos.js');
    const r = spawnSync(process.execPath, [CUSTOS_BIN, 'rules', 'test', '--rules', join(dir, 'local_rules.xml'), '--json'], {
      input: `${event('srv1')}\n${event('srv2')}\nnot json\n`,
      encoding: 'utf8',
    });
    const out = jsonLines<{ rule: { id: number; level: number }; alert: boolean; tried: { id: number; matched: boolean }[] }>(r.stdout);
    assert.deepEqual(
      out.map((o) => [Number(o.rule.id), o.rule.level, o.alert]),
      [
        [100000, 0, false],
        [550, 7, true],
      ],
    );
    assert.deepEqual(
      out[0]?.tried.filter((t) => t.matched).map((t) => t.id),
      [550, 100000],
    );
    assert.equal(r.status, 2, 'a line that is not JSON is reported');
    assert.match(r.stderr, /line 3: not an alert or event JSON object/);
  });
});
