import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AgentAlert, Alert, AnyAlert } from '../../src/core/build-alert.js';
import { CustosService, eventually } from '../support/custos-service.js';
import { ignoresAround, optTempDir } from '../support/root-scope.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * `/` as a monitored directory, as AIDE users write it: the whole root, minus what must not be read. Each test
 * monitors the real `/` of this machine, with `ignore` entries for every tree but a fresh directory under `/opt`
 * (see `ignoresAround`), through the real CLI, a real manager and a real agent.
 */

const NOBODY = 65534;

/** The file alerts of a run about paths below `dir`, as `rule event path`, sorted. */
function fileAlertsBelow(alerts: readonly AnyAlert[], dir: string): string[] {
  return alerts
    .flatMap((a) => ('syscheck' in a && a.syscheck.path.startsWith(`${dir}/`) ? [`${a.rule.id} ${a.syscheck.event} ${a.syscheck.path}`] : []))
    .sort();
}

function ruleIds(alerts: readonly AnyAlert[]): number[] {
  return alerts.map((a) => Number(a.rule.id));
}

/** A tree under `/opt` with a file to modify and one to delete. */
function plantTree(): string {
  const kept = optTempDir();
  mkdirSync(join(kept, 'app'));
  writeFileSync(join(kept, 'app', 'index.php'), '<?php echo "hello";\n');
  writeFileSync(join(kept, 'doomed.txt'), 'bye\n');
  return kept;
}

/** Checks `/` three times through `args`: baseline, after a modification, an addition and a deletion, unchanged. */
async function checkCycle(kept: string, args: readonly string[]): Promise<void> {
  const first = await runCustos(['check', '--json', ...args]);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(jsonLines<AnyAlert>(first.stdout), []);
  // `/`, `/opt`, the tree's directories and its two files at least: not "scanned 0 entries".
  const scanned = Number(/scanned (\d+) entries/.exec(first.stderr)?.[1]);
  assert.ok(scanned >= 6, first.stderr);
  assert.match(first.stderr, /first scan of newly monitored directories: \d+ entries taken into the baseline without alerts/);
  assert.doesNotMatch(first.stderr, /nothing scanned|could not be scanned/);

  writeFileSync(join(kept, 'app', 'index.php'), '<?php system($_GET["c"]);\n');
  writeFileSync(join(kept, 'app', 'shell.php'), '<?php eval($_POST["x"]);\n');
  unlinkSync(join(kept, 'doomed.txt'));
  const second = await runCustos(['check', '--json', ...args]);
  assert.equal(second.code, 1, second.stderr);
  const alerts = jsonLines<AnyAlert>(second.stdout);
  assert.deepEqual(fileAlertsBelow(alerts, kept), [
    `550 modified ${join(kept, 'app', 'index.php')}`,
    `553 deleted ${join(kept, 'doomed.txt')}`,
    `554 added ${join(kept, 'app', 'shell.php')}`,
  ]);
  assert.ok(!ruleIds(alerts).includes(572), second.stdout);

  const third = await runCustos(['check', '--json', ...args]);
  assert.deepEqual(fileAlertsBelow(jsonLines<AnyAlert>(third.stdout), kept), [], 'the baseline moved on');
}

describe('monitoring `/`', { timeout: 120_000 }, () => {
  it('custos check / (the directory on the command line) finds a modification, an addition and a deletion under /opt', async () => {
    const kept = plantTree();
    const dir = tempDir();
    const ignore = [...ignoresAround(kept), '/proc', '/sys', '/dev'];
    writeFileSync(join(dir, 'custos.yml'), `syscheck:\n  directories:\n    - path: /\n  ignore:\n${ignore.map((p) => `    - ${p}\n`).join('')}`);
    await checkCycle(kept, ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db'), '/']);
    const events = await runCustos(['events', '--db', join(dir, 'custos.db'), '--path', '/', '--json']);
    assert.equal(events.code, 0, events.stderr);
    assert.equal(jsonLines(events.stdout).length >= 3, true, '`events --path /` holds every path');
  });

  it('the same through an ossec.conf with <directories check_all="yes">/</directories>', async () => {
    const kept = plantTree();
    const dir = tempDir();
    const ignore = ignoresAround(kept);
    writeFileSync(
      join(dir, 'ossec.conf'),
      `<ossec_config>\n  <syscheck>\n    <directories check_all="yes">/</directories>\n${ignore.map((p) => `    <ignore>${p}</ignore>\n`).join('')}  </syscheck>\n</ossec_config>\n`,
    );
    await checkCycle(kept, ['--config', join(dir, 'ossec.conf'), '--db', join(dir, 'custos.db')]);
  });

  it('the same through custos.yml, with the ignores on the `/` entry itself and recursion_level', async () => {
    const kept = plantTree();
    const dir = tempDir();
    const ignore = ignoresAround(kept);
    writeFileSync(
      join(dir, 'custos.yml'),
      `syscheck:\n  directories:\n    - path: /\n      check_all: yes\n      recursion_level: 10\n      ignore:\n${ignore.map((p) => `        - ${p}\n`).join('')}`,
    );
    await checkCycle(kept, ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db')]);
  });

  it('recursion_level counts from `/`: level 2 sees /opt/<tree>/<entry>, not what is below', async () => {
    const kept = plantTree();
    const dir = tempDir();
    writeFileSync(
      join(dir, 'custos.yml'),
      `syscheck:\n  directories:\n    - path: /\n      recursion_level: 2\n  ignore:\n${ignoresAround(kept)
        .map((p) => `    - ${p}\n`)
        .join('')}`,
    );
    const args = ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db')];
    assert.equal((await runCustos(['check', ...args])).code, 0);
    writeFileSync(join(kept, 'app', 'index.php'), 'deeper than the limit\n');
    writeFileSync(join(kept, 'top.txt'), 'within the limit\n');
    const run = await runCustos(['check', '--json', ...args]);
    assert.deepEqual(fileAlertsBelow(jsonLines<AnyAlert>(run.stdout), kept), [`554 added ${join(kept, 'top.txt')}`]);
  });
});

describe('a monitored directory with nothing to scan is reported on every run (rule 572)', { timeout: 120_000 }, () => {
  it('a directory that does not exist: an alert and exit 1 on each check, beside the deletions it implies', async () => {
    const dir = tempDir();
    const www = join(dir, 'www');
    mkdirSync(www);
    writeFileSync(join(www, 'index.php'), '<?php\n');
    writeFileSync(join(dir, 'custos.yml'), `syscheck:\n  directories:\n    - path: ${www}\n    - path: ${join(dir, 'never-there')}\n`);
    const args = ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db')];
    for (let run = 1; run <= 2; run++) {
      const r = await runCustos(['check', '--json', ...args]);
      assert.equal(r.code, 1, r.stderr);
      const alerts = jsonLines<AnyAlert>(r.stdout).filter((a): a is AgentAlert => a.rule.id === '572');
      assert.deepEqual(
        alerts.map((a) => [a.custos.path, a.custos.reason]),
        [[join(dir, 'never-there'), 'it does not exist']],
        `run ${run}`,
      );
      assert.equal(
        alerts[0]?.full_log,
        `Monitored directory '${join(dir, 'never-there')}' could not be scanned: it does not exist. Changes below it are not being seen.`,
      );
      assert.ok(r.stderr.includes(`nothing scanned in monitored directory ${join(dir, 'never-there')}: it does not exist (alerted, rule 572)`), r.stderr);
    }
    rmSync(www, { recursive: true });
    const gone = await runCustos(['check', '--json', ...args]);
    const alerts = jsonLines<AnyAlert>(gone.stdout);
    assert.deepEqual(
      alerts.filter((a): a is Alert => 'syscheck' in a).map((a) => `${a.rule.id} ${a.syscheck.path}`),
      [`553 ${join(www, 'index.php')}`],
    );
    assert.deepEqual(
      alerts
        .filter((a): a is AgentAlert => a.rule.id === '572')
        .map((a) => a.custos.path)
        .sort(),
      [join(dir, 'never-there'), www].sort(),
    );
    const log = readFileSync(join(dir, 'alerts.log'), 'utf8');
    assert.match(log, /Rule: 572 \(level 7\) -> 'Monitored directory could not be scanned: changes below it are not being seen\.'/);
  });

  it('a directory the scanning user cannot list, run as an unprivileged user', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o755);
    chownSync(dir, NOBODY, NOBODY);
    const locked = join(dir, 'locked');
    mkdirSync(join(locked, 'inside'), { recursive: true });
    chmodSync(locked, 0o700);
    writeFileSync(join(dir, 'custos.yml'), `syscheck:\n  directories:\n    - path: ${locked}\n`);
    const asNobody = { uid: NOBODY, gid: NOBODY, timeoutMs: 30_000, env: { HOME: dir } };
    const r = await runCustos(['check', '--json', '--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db')], asNobody);
    assert.equal(r.code, 1, r.stderr);
    const alerts = jsonLines<AgentAlert>(r.stdout);
    assert.deepEqual(
      alerts.map((a) => [Number(a.rule.id), a.custos.path, a.custos.reason]),
      [[572, locked, 'cannot list entries: scandir: permission denied']],
    );
  });
});

describe('an agent with realtime on `/`', { timeout: 180_000 }, () => {
  const dir = tempDir('custos-root-fleet-');
  const managerData = join(dir, 'manager');
  const agentData = join(dir, 'agent');
  let manager: CustosService | undefined;
  let agent: CustosService | undefined;
  let managerUrl = '';
  let kept = '';

  const managerAlerts = (): AnyAlert[] => {
    const file = join(managerData, 'alerts.json');
    return existsSync(file) ? jsonLines<AnyAlert>(readFileSync(file, 'utf8')) : [];
  };

  before(async () => {
    mkdirSync(managerData);
    writeFileSync(join(managerData, 'custos.yml'), 'manager:\n  listen: 127.0.0.1:0\n');
    manager = new CustosService(['manager', 'start', '--data', managerData, '--listen', '127.0.0.1:0']);
    const ready = await manager.waitForMessage('manager listening', 30_000);
    managerUrl = `https://127.0.0.1:${ready.port as number}`;
  });
  after(async () => {
    await agent?.kill();
    await manager?.kill();
  });

  it('the manager serves `/` (realtime, with ignores) as central configuration; a change under /opt alerts within 2 s', async (t) => {
    kept = plantTree();
    const token = await runCustos(['manager', 'token', '--data', managerData]);
    assert.equal(token.code, 0, token.stderr);
    const enrolled = await runCustos([
      'agent',
      'enroll',
      '--manager',
      managerUrl,
      '--token',
      token.stdout.trim(),
      '--data',
      agentData,
      '--name',
      'root-watcher',
    ]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    const id = /enrolled as agent (\d+)/.exec(enrolled.stdout)?.[1] ?? '?';
    const missing = join(kept, 'uploads-not-there');
    mkdirSync(join(managerData, 'shared'), { recursive: true });
    writeFileSync(
      join(managerData, 'shared', 'root-watcher.yml'),
      `syscheck:\n  frequency: 1h\n  directories:\n    - path: /\n      realtime: yes\n    - path: ${missing}\n  ignore:\n${ignoresAround(kept)
        .map((p) => `    - ${p}\n`)
        .join('')}`,
    );
    writeFileSync(join(agentData, 'local.yml'), `syscheck:\n  frequency: 1h\n  directories:\n    - path: ${tempDir()}\n`);
    agent = new CustosService(['agent', 'start', '--data', agentData, '--config', join(agentData, 'local.yml'), '--keepalive', '1s']);
    await agent.waitForMessage('using the configuration the manager serves', 30_000);
    const watching = await agent.waitForMessage('watching in realtime', 30_000);
    assert.deepEqual([watching.dirs, watching.native, watching.polled], [['/'], ['/'], []], agent.describe());
    await agent.waitForMessage('outbox delivered', 60_000);
    assert.deepEqual(fileAlertsBelow(managerAlerts(), kept), [], 'the first scan builds the baseline without alerts');
    // The configured directory that does not exist is reported by the manager, as rule 572 for this agent.
    const notScanned = await eventually(() => managerAlerts().find((a): a is AgentAlert => a.rule.id === '572' && a.agent.id === id), 10_000, 'the 572 alert');
    assert.deepEqual([notScanned.custos.path, notScanned.custos.reason], [missing, 'it does not exist']);

    const changes: [string, () => void, string][] = [
      ['550 modified', () => writeFileSync(join(kept, 'app', 'index.php'), '<?php system($_GET["c"]);\n'), join(kept, 'app', 'index.php')],
      ['554 added', () => writeFileSync(join(kept, 'app', 'shell.php'), '<?php eval($_POST["x"]);\n'), join(kept, 'app', 'shell.php')],
      ['553 deleted', () => unlinkSync(join(kept, 'doomed.txt')), join(kept, 'doomed.txt')],
    ];
    for (const [what, change, path] of changes) {
      const started = Date.now();
      change();
      await eventually(
        () => (fileAlertsBelow(managerAlerts(), kept).includes(`${what} ${path}`) ? true : undefined),
        10_000,
        () => `the ${what} alert; got ${JSON.stringify(fileAlertsBelow(managerAlerts(), kept))}`,
      );
      const latency = Date.now() - started;
      t.diagnostic(`${what}: alert on the manager ${latency} ms after the change`);
      assert.ok(latency < 2000, `the ${what} alert took ${latency} ms`);
    }
    assert.equal(agent.running, true);
  });
});
