import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, linkSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { checkWorkspace } from '../support/check-workspace.js';

/**
 * The attributes intruders use without touching content, mode or owner: each change is made with the real tool
 * (setcap, setfacl, setfattr, chattr, ln) on real files, as root, and must alert through the real CLI.
 */

type Syscheck = Alert['syscheck'] & Record<string, unknown>;

const workspace = checkWorkspace;

async function check(args: readonly string[]): Promise<{ code: number | null; alerts: Alert[]; stderr: string }> {
  const run = await runCustos(['check', '--json', ...args]);
  return { code: run.code, alerts: jsonLines<Alert>(run.stdout), stderr: run.stderr };
}

function sh(command: string, ...args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8' });
}

function alertFor(alerts: readonly Alert[], path: string): Alert {
  const alert = alerts.find((a) => a.syscheck.path === path);
  assert.ok(alert, `an alert for ${path} among ${alerts.map((a) => a.syscheck.path).join(', ')}`);
  return alert;
}

describe('custos check: capabilities, ACLs, extended attributes, inode flags and link counts', () => {
  // Registered before the workspace's own clean-up (hooks run in order): an immutable file cannot be removed,
  // not even by root.
  after(() => {
    execFileSync('chattr', ['-i', immutable()]);
  });
  const ws = workspace();
  const binary = (): string => join(ws.tree, 'helper');
  const shared = (): string => join(ws.tree, 'shared.sh');
  const conf = (): string => join(ws.tree, 'app.conf');
  const immutable = (): string => join(ws.tree, 'resolv.conf');
  const setuid = (): string => join(ws.tree, 'su');
  const drop = (): string => join(ws.tree, 'drop');

  before(async () => {
    copyFileSync('/bin/true', binary());
    writeFileSync(shared(), '#!/bin/sh\necho hi\n');
    chmodSync(shared(), 0o775);
    writeFileSync(conf(), 'key=value\n');
    writeFileSync(immutable(), 'nameserver 127.0.0.1\n');
    copyFileSync('/bin/true', setuid());
    chmodSync(setuid(), 0o4755);
    mkdirSync(drop());
    const first = await check(ws.args);
    assert.equal(first.code, 0, first.stderr);
  });
  it('alerts each change, with before and after, and exits 1', async () => {
    const modeBefore = statSync(shared()).mode;
    sh('setcap', 'cap_setuid+ep', binary());
    // The mask equals the old group bits (rwx on a 775 file): the mode does not change.
    sh('setfacl', '-m', 'u:nobody:rwx', shared());
    sh('setfacl', '-d', '-m', 'u:nobody:rwx', drop());
    sh('setfattr', '-n', 'user.backdoor', '-v', 'payload', conf());
    sh('chattr', '+i', immutable());
    linkSync(setuid(), join(ws.tree, '.hidden-su'));
    assert.equal(statSync(shared()).mode, modeBefore, 'the ACL leaves the mode as it was');

    const r = await check(ws.args);
    assert.equal(r.code, 1, r.stderr);

    const caps = alertFor(r.alerts, binary());
    assert.equal(String(caps.rule.id), '550');
    const capsFields = caps.syscheck as Syscheck;
    assert.deepEqual(capsFields.changed_attributes, ['capabilities']);
    assert.equal(capsFields.capabilities_before, '');
    // The same text getcap prints.
    assert.match(sh('getcap', binary()), new RegExp(`${String(capsFields.capabilities_after)}$`, 'm'));
    assert.equal(capsFields.capabilities_after, 'cap_setuid=ep');
    assert.match(caps.full_log, /Capabilities changed from '' to 'cap_setuid=ep'/);

    const acl = alertFor(r.alerts, shared()).syscheck as Syscheck;
    assert.deepEqual(acl.changed_attributes, ['acl']);
    const nobody = sh('id', '-u', 'nobody').trim();
    assert.equal(acl.acl_after, `user::rwx,user:${nobody}:rwx,group::rwx,mask::rwx,other::r-x`);
    // getfacl -n, entry for entry.
    const getfacl = sh('getfacl', '-n', '-c', '-E', shared())
      .split('\n')
      .filter((l) => l !== '')
      .join(',');
    assert.equal(acl.acl_after, getfacl);

    const defaults = alertFor(r.alerts, drop()).syscheck as Syscheck;
    assert.deepEqual(defaults.changed_attributes, ['default_acl']);
    assert.match(String(defaults.default_acl_after), new RegExp(`user:${nobody}:rwx`));

    const xattr = alertFor(r.alerts, conf()).syscheck as Syscheck;
    assert.deepEqual(xattr.changed_attributes, ['xattrs']);
    assert.match(String(xattr.xattrs_after), /^user\.backdoor=[0-9a-f]{16}$/);

    const flags = alertFor(r.alerts, immutable());
    assert.deepEqual(flags.syscheck.changed_attributes, ['attributes']);
    assert.equal((flags.syscheck as Syscheck).attributes_before, '-');
    assert.equal((flags.syscheck as Syscheck).attributes_after, 'i');
    assert.match(flags.full_log, /File attributes changed from '-' to 'i'/);

    const link = alertFor(r.alerts, setuid()).syscheck as Syscheck;
    assert.deepEqual(link.changed_attributes, ['link_count']);
    assert.equal(link.link_count_before, 1);
    assert.equal(link.link_count_after, 2);
    assert.equal(String(alertFor(r.alerts, join(ws.tree, '.hidden-su')).rule.id), '554');

    const log = readFileSync(join(ws.dir, 'alerts.log'), 'utf8');
    assert.match(log, /Capabilities changed from '' to 'cap_setuid=ep'/);
    assert.match(log, /Hard link count changed from '1' to '2'/);

    const again = await check(ws.args);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(again.alerts, []);
  });

  it('alerts a capability removed and a changed attribute value', async () => {
    sh('setcap', '-r', binary());
    sh('setfattr', '-n', 'user.backdoor', '-v', 'other', conf());
    const r = await check(ws.args);
    assert.equal(r.code, 1, r.stderr);
    const caps = alertFor(r.alerts, binary()).syscheck as Syscheck;
    assert.equal(caps.capabilities_before, 'cap_setuid=ep');
    assert.equal(caps.capabilities_after, '');
    const xattr = alertFor(r.alerts, conf()).syscheck as Syscheck;
    assert.notEqual(xattr.xattrs_before, xattr.xattrs_after);
  });
});

describe('custos check: the new checks follow check_* options', () => {
  it('check_capabilities: no (and its AIDE alias check_caps) leaves capabilities alone', async () => {
    for (const option of ['check_capabilities', 'check_caps']) {
      const ws = workspace(`      check_all: yes\n      ${option}: no\n`);
      const file = join(ws.tree, 'tool');
      copyFileSync('/bin/true', file);
      assert.equal((await check(ws.args)).code, 0);
      sh('setcap', 'cap_net_raw+ep', file);
      const r = await check(ws.args);
      assert.equal(r.code, 0, `${option}: ${JSON.stringify(r.alerts)}`);
    }
  });
  it('check_sum only: no attribute is read, none alerts', async () => {
    const ws = workspace('      check_sum: yes\n');
    const file = join(ws.tree, 'tool');
    copyFileSync('/bin/true', file);
    assert.equal((await check(ws.args)).code, 0);
    sh('setcap', 'cap_net_raw+ep', file);
    sh('setfattr', '-n', 'user.x', '-v', '1', file);
    linkSync(file, join(ws.tree, 'tool2'));
    const r = await check(ws.args);
    assert.deepEqual(
      r.alerts.map((a) => a.syscheck.event),
      ['added'],
      'only the new link itself',
    );
  });
});

describe('custos check: a file over max_file_size is checked by its attributes, ctime included', () => {
  it('reports content edited in place with size and mtime put back, and counts such files', async () => {
    const ws = workspace('  max_file_size: 1KiB\n');
    const big = join(ws.tree, 'disk.img');
    writeFileSync(big, 'a'.repeat(4096));
    writeFileSync(join(ws.tree, 'small'), 'x');
    const first = await check(ws.args);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /1 files over max_file_size checked by attributes only/);
    const before = statSync(big, { bigint: true });
    // As an intruder does it: the timestamps kept aside with touch -r (to the nanosecond) and put back.
    const reference = join(ws.dir, 'timestamps');
    writeFileSync(reference, '');
    sh('touch', '-r', big, reference);
    writeFileSync(big, 'b'.repeat(4096));
    sh('touch', '-r', reference, big);
    const ctimeBefore = before.ctimeNs;
    assert.equal(statSync(big, { bigint: true }).mtimeNs, before.mtimeNs);
    assert.notEqual(statSync(big, { bigint: true }).ctimeNs, ctimeBefore);
    const r = await check(ws.args);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.alerts.length, 1, JSON.stringify(r.alerts));
    const alert = r.alerts[0] as Alert;
    assert.equal(String(alert.rule.id), '550');
    assert.equal(alert.syscheck.path, big);
    assert.deepEqual(alert.syscheck.changed_attributes, ['ctime']);
    assert.ok(
      typeof (alert.syscheck as Syscheck).ctime_before === 'string' && (alert.syscheck as Syscheck).ctime_before !== (alert.syscheck as Syscheck).ctime_after,
    );
    assert.match(alert.full_log, /Inode change time changed from '.+' to '.+' with nothing else seen to change: the file is over max_file_size/);
    const again = await check(ws.args);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /1 files over max_file_size checked by attributes only/);
  });
});
