import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CustosService } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { tempDir } from '../support/temp-dir.js';

/** Runs what follows as root without the capabilities that bypass file permissions: a mode 000 directory is shut to it. */
const WITHOUT_DAC_OVERRIDE = ['setpriv', '--bounding-set', '-dac_override,-dac_read_search'];

describe('an agent that cannot look into part of a monitored directory (issue 21)', { timeout: 180_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-subtree-'));
  let manager: ManagerHandle | undefined;
  let agent: CustosService | undefined;
  after(async () => {
    await agent?.kill();
    await manager?.service.kill();
  });

  const startAgent = (data: string, tree: string): CustosService => {
    const config = join(data, 'custos.yml');
    writeFileSync(config, `syscheck:\n  frequency: 1h\n  directories:\n    - path: ${tree}\n`);
    return new CustosService(['agent', 'start', '--data', data, '--config', config, '--keepalive', '1s'], WITHOUT_DAC_OVERRIDE);
  };

  it('reports it to the manager as rule 574 at every scan, as standalone does', async () => {
    manager = await fleet.startManager();
    const tree = join(fleet.dir, 'tree');
    mkdirSync(join(tree, 'private'), { recursive: true });
    writeFileSync(join(tree, 'index.php'), 'hello\n');
    writeFileSync(join(tree, 'private', 'inside'), 'x');
    chmodSync(join(tree, 'private'), 0o000);
    const data = join(fleet.dir, 'agent');
    const enrolled = await fleet.enroll(manager, 'web1', data, ['--name', 'web1']);
    const id = enrolled.id;
    assert.ok(id !== undefined, enrolled.stderr);
    const subtreeAlerts = (): { path: unknown; reason: unknown }[] =>
      fleet.agentAlerts(id).flatMap((a) => {
        const custos = (a as { custos?: Record<string, unknown> }).custos;
        return a.rule.id === '574' && custos !== undefined ? [{ path: custos.path, reason: custos.reason }] : [];
      });

    agent = startAgent(data, tree);
    await delivered(agent, 0);
    assert.equal(subtreeAlerts().length, 1, agent.describe());
    assert.equal(subtreeAlerts()[0]?.path, join(tree, 'private'));
    assert.match(String(subtreeAlerts()[0]?.reason), /^unreadable-directory: /);
    const alert = fleet.agentAlerts(id).find((a) => a.rule.id === '574');
    assert.equal(alert?.rule.level, 7);
    assert.match(alert?.full_log ?? '', /could not be scanned: unreadable-directory/);

    // Still unreadable at the next scan (the agent restarted, scan_on_start): alerted again, not once and forgotten.
    await agent.kill();
    agent = startAgent(data, tree);
    await delivered(agent, 0);
    assert.equal(subtreeAlerts().length, 2, agent.describe());
  });
});
