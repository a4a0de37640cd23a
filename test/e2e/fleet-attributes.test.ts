import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { eventually, type CustosService } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The attribute checks in fleet mode: a real agent reads capabilities and ACLs when realtime sees the change
 * (IN_ATTRIB), sends them in its states, and the real manager compares and alerts them.
 */
describe('fleet mode: capabilities and ACLs alert on the manager', { timeout: 120_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-fleet-attrs-'));
  const tree = join(fleet.dir, 'tree');
  let manager: ManagerHandle;
  let agent: CustosService | undefined;
  let agentId = '';

  before(async () => {
    mkdirSync(tree);
    copyFileSync('/bin/true', join(tree, 'helper'));
    copyFileSync('/bin/true', join(tree, 'su'));
    manager = await fleet.startManager();
    const data = join(fleet.dir, 'agent');
    const enrolled = await fleet.enroll(manager, 'attrs', data, ['--name', 'attrs']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    agentId = enrolled.id ?? '';
    agent = fleet.startAgent(data, [tree]);
    await agent.waitForMessage('watching in realtime');
    await delivered(agent, 0);
  });
  after(async () => {
    await agent?.kill();
    await manager?.service.kill();
  });

  const modified = (path: string): Alert | undefined =>
    fleet.alerts().find((a): a is Alert => 'syscheck' in a && a.agent.id === agentId && a.syscheck.path === path && a.syscheck.event === 'modified');

  it('setcap and setfacl alert in realtime, with before and after', async () => {
    execFileSync('setcap', ['cap_setuid+ep', join(tree, 'helper')]);
    const caps = await eventually(() => modified(join(tree, 'helper')), 15_000, 'the capabilities alert');
    assert.deepEqual(caps.syscheck.changed_attributes, ['capabilities']);
    assert.equal((caps.syscheck as Record<string, unknown>).capabilities_before, '');
    assert.equal((caps.syscheck as Record<string, unknown>).capabilities_after, 'cap_setuid=ep');

    execFileSync('setfacl', ['-m', 'u:nobody:rwx', join(tree, 'su')]);
    const acl = await eventually(() => modified(join(tree, 'su')), 15_000, 'the ACL alert');
    // rwx for nobody on a 755 file raises the mask, which the group bits show: the mode changes too.
    assert.deepEqual(acl.syscheck.changed_attributes, ['permission', 'acl']);
    assert.match(String((acl.syscheck as Record<string, unknown>).acl_after), /^user::rwx,user:\d+:rwx,/);
  });
});
