import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { bytesPath } from '../support/temp-dir.js';
import { checkWorkspace } from '../support/check-workspace.js';

const workspace = checkWorkspace;

async function checkJson(args: string[]): Promise<{ code: number | null; alerts: Alert[]; stderr: string }> {
  const run = await runCustos(['check', '--json', ...args]);
  return { code: run.code, alerts: jsonLines<Alert>(run.stdout), stderr: run.stderr };
}

describe('custos check: add, modify, delete', () => {
  const ws = workspace();
  before(() => {
    writeFileSync(join(ws.tree, 'hosts'), '127.0.0.1 localhost\n');
    writeFileSync(join(ws.tree, 'doomed'), 'bye\n');
  });

  it('builds the baseline on the first run and alerts nothing', async () => {
    const r = await checkJson(ws.args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.alerts, []);
    assert.match(r.stderr, /first scan of newly monitored directories: 3 entries taken into the baseline without alerts/);
  });

  it('alerts on a modification, a deletion and an addition, with OSSEC rule ids, and exits 1', async () => {
    writeFileSync(join(ws.tree, 'hosts'), '127.0.0.1 localhost\n10.0.0.66 evil\n');
    unlinkSync(join(ws.tree, 'doomed'));
    writeFileSync(join(ws.tree, 'newcomer'), 'hi\n');
    const r = await checkJson(ws.args);
    assert.equal(r.code, 1);
    const byEvent = new Map(r.alerts.map((a) => [a.syscheck.event, a]));
    assert.equal(byEvent.get('modified')?.rule.id, '550');
    assert.equal(byEvent.get('deleted')?.rule.id, '553');
    assert.equal(byEvent.get('added')?.rule.id, '554');
    assert.equal(byEvent.get('modified')?.syscheck.path, join(ws.tree, 'hosts'));
    assert.match(
      byEvent.get('modified')?.full_log ?? '',
      new RegExp(`^Integrity checksum changed for: '${join(ws.tree, 'hosts')}'\nSize changed from '20' to '35'`),
    );
    assert.equal(byEvent.get('deleted')?.full_log, `File '${join(ws.tree, 'doomed')}' was deleted. Unable to retrieve checksum.`);
  });

  it('wrote the same alerts to alerts.json and alerts.log, and advanced the baseline', async () => {
    const json = jsonLines<Alert>(readFileSync(join(ws.dir, 'alerts.json'), 'utf8'));
    assert.deepEqual(json.map((a) => Number(a.rule.id)).sort(), [550, 553, 554]);
    const log = readFileSync(join(ws.dir, 'alerts.log'), 'utf8');
    assert.match(
      log,
      /\*\* Alert \d+\.\d+: - ossec,syscheck,syscheck_entry_modified,syscheck_file,pci_dss_11\.5,[^\n]*,\n\d{4} \w{3} \d\d \d\d:\d\d:\d\d .+->syscheck\nRule: 550 \(level 7\) -> 'Integrity checksum changed\.'\nIntegrity checksum changed for:/,
    );
    const again = await checkJson(ws.args);
    assert.equal(again.code, 0);
    assert.deepEqual(again.alerts, []);
  });

  it('lists every change in the history and the alerts', async () => {
    const events = jsonLines<{ outcome: string; syscheck: { event: string } }>((await runCustos(['events', '--json', ...ws.args])).stdout);
    assert.deepEqual(events.map((e) => `${e.syscheck.event}:${e.outcome}`).sort(), ['added:alerted', 'deleted:alerted', 'modified:alerted']);
    const alerts = jsonLines<Alert>((await runCustos(['alerts', '--json', '--path', join(ws.tree, 'hosts'), ...ws.args])).stdout);
    assert.deepEqual(
      alerts.map((a) => Number(a.rule.id)),
      [550],
    );
    const human = await runCustos(['events', ...ws.args]);
    assert.match(human.stdout, /modified +\S+\/hosts \[size,mtime,md5,sha1,sha256\] -> alerted rule 550/);
  });

  it('verifies the history chain', async () => {
    const r = await runCustos(['verify', ...ws.args]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /history intact: 3 records verified/);
  });
});

describe('custos check: each attribute change detected alone', () => {
  const ws = workspace();
  const f = (name: string): string => join(ws.tree, name);
  const fixed = new Date('2025-01-01T00:00:00Z');
  before(async () => {
    for (const name of ['perm', 'owner', 'group', 'mtime', 'content', 'inode']) {
      writeFileSync(f(name), `${name} original\n`);
      utimesSync(f(name), fixed, fixed);
    }
    symlinkSync('/etc/hosts', f('link'));
    writeFileSync(f('becomes-dir'), 'x');
    assert.equal((await checkJson(ws.args)).code, 0);
  });
  const cases: [string, () => void, string[]][] = [
    ['permissions', () => chmodSync(f('perm'), 0o4755), ['permission']],
    ['owner', () => chownSync(f('owner'), 1, statSync(f('owner')).gid), ['uid', 'user_name']],
    ['group', () => chownSync(f('group'), statSync(f('group')).uid, 1), ['gid', 'group_name']],
    ['mtime', () => utimesSync(f('mtime'), fixed, new Date('2025-06-01T00:00:00Z')), ['mtime']],
    [
      'content of the same size, mtime put back',
      () => {
        writeFileSync(f('content'), 'CONTENT original\n');
        utimesSync(f('content'), fixed, fixed);
      },
      ['md5', 'sha1', 'sha256'],
    ],
    [
      'inode (replaced by an identical copy)',
      () => {
        copyFileSync(f('inode'), f('inode.tmp'));
        utimesSync(f('inode.tmp'), fixed, fixed);
        chmodSync(f('inode.tmp'), statSync(f('inode')).mode);
        renameSync(f('inode.tmp'), f('inode'));
      },
      ['inode'],
    ],
    [
      // A symlink cannot be retargeted in place: the new link is a new inode with its own size and mtime. Made
      // beside the old one and renamed over it, so the file system cannot hand the freed inode number back.
      'symlink target',
      () => {
        symlinkSync('/etc/passwd', f('link.new'));
        renameSync(f('link.new'), f('link'));
      },
      ['size', 'mtime', 'inode', 'link_target'],
    ],
  ];
  it('reports exactly the attribute that changed, for each kind of change', async () => {
    for (const [, change] of cases) change();
    const r = await checkJson(ws.args);
    assert.equal(r.code, 1);
    for (const [what, , expected] of cases) {
      const name =
        { permissions: 'perm', owner: 'owner', group: 'group', mtime: 'mtime' }[what] ??
        (what.startsWith('content') ? 'content' : what.startsWith('inode') ? 'inode' : 'link');
      const alert = r.alerts.find((a) => a.syscheck.path === f(name));
      assert.deepEqual(alert?.syscheck.changed_attributes, expected, what);
    }
    assert.equal(r.alerts.length, cases.length, 'nothing else alerted');
  });
  it('reports a file turned into a directory as a type change', async () => {
    rmSync(f('becomes-dir'));
    mkdirSync(f('becomes-dir'));
    const r = await checkJson(ws.args);
    const alert = r.alerts.find((a) => a.syscheck.path === f('becomes-dir'));
    assert.ok(alert?.syscheck.changed_attributes?.includes('type'));
    assert.equal(alert?.syscheck.type_after, 'directory');
  });
});

describe('custos check: hostile names', () => {
  const ws = workspace();
  const bad = bytesPath(ws.tree, '/bad', Buffer.from([0xff, 0xfe]), '.txt');
  const nl = bytesPath(ws.tree, '/new\nline');
  it('round-trips invalid UTF-8 and newlines exactly through alerts, alerts.log and the history', async () => {
    assert.equal((await checkJson(ws.args)).code, 0);
    writeFileSync(bad, 'x');
    writeFileSync(nl, 'y');
    const r = await checkJson(ws.args);
    assert.equal(r.code, 1);
    const exact = r.alerts.map((a) => Buffer.from(String(a.syscheck.path_bytes), 'base64'));
    assert.ok(exact.some((p) => p.equals(bad)));
    assert.ok(exact.some((p) => p.equals(nl)));
    assert.ok(r.alerts.some((a) => a.syscheck.path === `${ws.tree}/bad\\xff\\xfe.txt`));
    assert.ok(r.alerts.some((a) => a.syscheck.path === `${ws.tree}/new\\nline`));
    const log = readFileSync(join(ws.dir, 'alerts.log'), 'utf8');
    assert.ok(log.includes(`New file '${ws.tree}/new\\nline' added to the file system.`));
    writeFileSync(bad, 'changed');
    const modified = await checkJson(ws.args);
    assert.equal(modified.alerts.length, 1);
    assert.ok(Buffer.from(String(modified.alerts[0]?.syscheck.path_bytes), 'base64').equals(bad));
    const events = jsonLines<{ syscheck: { path_bytes?: string; event: string } }>((await runCustos(['events', '--json', ...ws.args])).stdout);
    assert.equal(events.filter((e) => e.syscheck.path_bytes !== undefined && Buffer.from(e.syscheck.path_bytes, 'base64').equals(bad)).length, 2);
  });
});
