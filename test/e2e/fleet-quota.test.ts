import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { CustosService } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { tempDir } from '../support/temp-dir.js';

const managerYaml = (baselineEntries: number): string =>
  `manager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n  quota:\n    baseline_entries: ${baselineEntries}\n`;

describe('a per-agent storage quota on the manager (issue 11, case 8)', { timeout: 240_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-quota-'), managerYaml(40));
  let manager: ManagerHandle | undefined;
  let agent: CustosService | undefined;
  after(async () => {
    await agent?.kill();
    await manager?.service.kill();
  });

  it('refuses an agent past its quota with rule 577 once, keeps its changes on the agent, applies them once raised', async () => {
    manager = await fleet.startManager();
    const tree = join(fleet.dir, 'tree');
    mkdirSync(tree);
    for (let i = 0; i < 45; i++) writeFileSync(join(tree, `page-${i}.php`), `${i}\n`);
    const data = join(fleet.dir, 'agent');
    const enrolled = await fleet.enroll(manager, 'web1', data, ['--name', 'web1']);
    const id = enrolled.id;
    assert.ok(id !== undefined, enrolled.stderr);
    agent = fleet.startAgent(data, [tree]);
    // The first scan's entries (46) come in a batch that starts under the quota of 40 and is applied whole; the
    // batch that ends the scan then finds the agent over it.
    const refused = await agent.waitForLog((l) => l.msg === 'the manager refused a batch' && l.status === 507, 60_000, 0);
    assert.match(String(refused.error), /storage quota reached \(baseline entries 46 of 40\)/);
    const quotaAlerts = (): number => fleet.agentAlerts(id).filter((a) => a.rule.id === '577').length;
    assert.equal(quotaAlerts(), 1, JSON.stringify(fleet.agentAlerts(id)));
    const alert = fleet.agentAlerts(id).find((a) => a.rule.id === '577');
    assert.equal(alert?.rule.level, 10);
    assert.match(alert?.full_log ?? '', /has reached its storage quota on the manager \(baseline entries 46 of 40\)/);

    // A change made now waits behind the refused batch; every retry is refused, and alerted only once.
    writeFileSync(join(tree, 'implant.php'), '<?php system($_GET["c"]);\n');
    const from = agent.lines.length;
    await agent.waitForLog((l) => l.msg === 'the manager refused a batch' && l.status === 507, 60_000, from);
    await agent.waitForLog((l) => l.msg === 'the manager refused a batch' && l.status === 507, 60_000, agent.lines.length);
    assert.equal(quotaAlerts(), 1);
    assert.deepEqual(
      fleet.fileAlerts(id).filter((a) => a.path.includes('implant')),
      [],
      'nothing applied past the quota',
    );

    // The operator raises the quota: the manager restarts on its port, the agent's outbox goes through, nothing lost.
    const port = manager.port;
    await manager.service.kill();
    writeFileSync(join(fleet.managerData, 'custos.yml'), managerYaml(1000));
    manager = await fleet.startManager(port);
    await delivered(agent, agent.lines.length, 120_000);
    const added = fleet
      .fileAlerts(id)
      .filter((a) => a.event === 'added')
      .map((a) => a.path);
    assert.deepEqual(added, [join(tree, 'implant.php')]);
  });
});
