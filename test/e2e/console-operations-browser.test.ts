import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { eventually, type CustosService } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { CUSTOS_BIN, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The console's Operations pages in a real browser (Debian's chromium, playwright-core) against a real manager
 * process and real agents: an admin creates an enrollment token that a real `custos agent enroll` then uses,
 * starts and ends a maintenance window, edits a group's central configuration (a bad one is refused with the
 * configuration parser's error), looks up a digest at a non-UTF-8 path, and revokes an agent; a viewer sees no
 * change buttons and the API refuses the changes. Screenshots go to $CUSTOS_SCREENSHOTS (not committed); with
 * $CUSTOS_README_SCREENSHOT set, the fleet overview is also saved there (how docs/console-overview.png was made).
 */

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = process.env.CUSTOS_SCREENSHOTS ?? '/tmp/custos-console-screenshots';
const USERS = { admin: 'admin-password-1', viewer: 'viewer-password-1' } as const;
const GOOD_CONFIG = 'syscheck:\n  frequency: 2h\n  directories:\n    - path: /etc\n      realtime: yes\n';

function addUser(data: string, name: keyof typeof USERS, role: 'admin' | 'viewer'): void {
  execFileSync(process.execPath, [CUSTOS_BIN, 'manager', 'user', 'add', name, '--role', role, '--data', data], { input: `${USERS[name]}\n`, encoding: 'utf8' });
}

describe('console Operations pages in chromium', { timeout: 300_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-console-ops-e2e-'));
  const www = join(fleet.dir, 'www');
  let manager: ManagerHandle;
  let agent: CustosService | undefined;
  let context: BrowserContext;
  let page: Page;
  const ids: Record<string, string> = {};

  const shot = async (name: string): Promise<void> => {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const signIn = async (name: keyof typeof USERS): Promise<void> => {
    await page.goto(manager.url);
    await page.fill('input[name=name]', name);
    await page.fill('input[name=password]', USERS[name]);
    await page.click('button[type=submit]');
    await page.waitForSelector('table.agents');
  };
  const open = async (hash: string, selector: string): Promise<void> => {
    const url = `${manager.url}/#/${hash}`;
    // The same hash again is no navigation at all: reload, so the page shows what the manager has now.
    if (page.url() === url) await page.reload();
    else await page.goto(url);
    await page.waitForSelector(selector);
  };
  /** A change from inside the page (its cookie and CSRF token): what a viewer's hand-made request gets. */
  const postFromPage = (path: string, body: unknown): Promise<number> =>
    page.evaluate(
      async ({ path, body }) => {
        const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
        const headers = { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken };
        return (await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) })).status;
      },
      { path, body },
    );

  before(async () => {
    mkdirSync(www);
    for (const name of ['index.php', 'config.php', 'login.php']) writeFileSync(join(www, name), `<?php // ${name}\n`);
    addUser(fleet.managerData, 'admin', 'admin');
    addUser(fleet.managerData, 'viewer', 'viewer');
    manager = await fleet.startManager();
    for (const [name, group] of [
      ['web1', 'web'],
      ['web2', 'web'],
      ['db1', 'db'],
    ] as const) {
      const enrolled = await fleet.enroll(manager, name, join(fleet.dir, name), ['--name', name, '--group', group]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
      ids[name] = enrolled.id ?? '';
    }
    // web1 runs and sees its site change: the overview then has alerts to show.
    agent = fleet.startAgent(join(fleet.dir, 'web1'), [www]);
    await agent.waitForMessage('watching in realtime');
    await delivered(agent, 0);
    writeFileSync(join(www, 'index.php'), '<?php system($_GET["c"]);\n');
    writeFileSync(join(www, 'shell.php'), '<?php eval($_POST["x"]);\n');
    await eventually(async () => (fleet.fileAlerts(ids.web1!).length >= 2 ? true : undefined), 60_000, 'two alerts from web1');
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'custos-chromium-')), {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_FLAGS,
      headless: true,
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 860 },
    });
    page = context.pages()[0] ?? (await context.newPage());
  });
  after(async () => {
    await context?.close();
    await agent?.kill();
    await manager?.service.kill();
  });

  it('shows the fleet overview with its agents (the README screenshot)', async () => {
    await signIn('admin');
    await page.locator('table', { hasText: 'shell.php' }).waitFor();
    for (const name of ['web1', 'web2', 'db1']) await page.locator('table.agents tbody tr', { hasText: name }).waitFor();
    await shot('fleet-overview');
    const readme = process.env.CUSTOS_README_SCREENSHOT;
    if (readme !== undefined) await page.screenshot({ path: readme, fullPage: false });
  });

  it('creates an enrollment token that a real agent enrols with, shows it once, and revokes another', async () => {
    await open('tokens', 'form.filters');
    await page.fill('input[name=ttl]', '2h');
    await page.click('text=Create token');
    const token = (await page.locator('code.token').innerText()).trim();
    assert.match(token, /^cst1\.[0-9a-f]{12}\./);
    const id = token.split('.')[1]!;
    await page.locator(`tr[data-token="${id}"]`, { hasText: 'valid' }).waitFor();
    await shot('tokens-created');
    const run = await runCustos(['agent', 'enroll', '--manager', manager.url, '--token', token, '--data', join(fleet.dir, 'cache1'), '--name', 'cache1'], {
      env: { CUSTOS_MACHINE_ID_FILE: fleet.machineIdFile('cache1') },
    });
    assert.equal(run.code, 0, run.stderr);
    ids.cache1 = /enrolled as agent (\d+)/.exec(run.stdout)?.[1] ?? '';
    // Reloaded, the list says who used it, and the secret is nowhere on the page any more.
    await open('tokens', 'table.tokens');
    assert.match(await page.locator(`tr[data-token="${id}"]`).innerText(), /used\s+cache1/);
    assert.equal(await page.locator('code.token').count(), 0);

    await page.click('text=Create token');
    const spare = (await page.locator('code.token').innerText()).trim();
    const spareId = spare.split('.')[1]!;
    const row = page.locator(`tr[data-token="${spareId}"]`);
    await row.locator('button', { hasText: 'Revoke' }).click();
    await row.locator('button', { hasText: 'Confirm' }).click();
    await page.locator('.notice', { hasText: `Token ${spareId} is revoked` }).waitFor();
    await page.locator(`tr[data-token="${spareId}"]`, { hasText: 'expired' }).waitFor();
    const refused = await runCustos(['agent', 'enroll', '--manager', manager.url, '--token', spare, '--data', join(fleet.dir, 'late'), '--name', 'late'], {
      env: { CUSTOS_MACHINE_ID_FILE: fleet.machineIdFile('late') },
    });
    assert.notEqual(refused.code, 0, 'a revoked token enrols nobody');
    await shot('tokens');
  });

  it('starts and ends a maintenance window', async () => {
    await open('maintenance', 'form.filters');
    await page.fill('input[name=duration]', '45m');
    await page.fill('input[name=reason]', 'kernel patch run');
    await page.click('text=Start window');
    await page.locator('.notice', { hasText: 'runs until' }).waitFor();
    const row = page.locator('table.windows tbody tr', { hasText: 'kernel patch run' });
    assert.match(await row.innerText(), /every agent[\s\S]*console:admin[\s\S]*kernel patch run\s+active/);
    await shot('maintenance-active');
    await row.locator('button', { hasText: 'End' }).click();
    await row.locator('button', { hasText: 'Confirm' }).click();
    await page.locator('.notice', { hasText: 'Ended 1 window' }).waitFor();
    await page.locator('table.windows tbody tr', { hasText: 'ended' }).waitFor();
    const listed = runCustos(['maintenance', 'list', '--data', fleet.managerData, '--json']);
    const windows = (await listed).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { reason?: string; endedAt?: string; active: boolean });
    assert.deepEqual(
      windows.map((w) => [w.reason, w.active, w.endedAt !== undefined]),
      [['kernel patch run', false, true]],
    );
  });

  it("edits a group's central configuration, and refuses a bad one with the parser's error", async () => {
    await open('groups', 'div.group-config[data-group=web]');
    const web = page.locator('div.group-config[data-group=web]');
    await web.locator('button', { hasText: 'Edit configuration' }).click();
    await web.locator('textarea').fill(GOOD_CONFIG);
    await web.locator('button', { hasText: 'Save' }).click();
    await page.locator('.notice', { hasText: 'Saved (version' }).waitFor();
    const file = join(fleet.managerData, 'shared', 'groups', 'web.yml');
    assert.equal(readFileSync(file, 'utf8'), GOOD_CONFIG);
    await page.locator('div.group-config[data-group=web] pre.config', { hasText: 'frequency: 2h' }).waitFor();
    const again = page.locator('div.group-config[data-group=web]');
    await again.locator('button', { hasText: 'Edit configuration' }).click();
    await again.locator('textarea').fill('syscheck:\n  frequency: sometimes\n');
    await again.locator('button', { hasText: 'Save' }).click();
    const error = page.locator('div.group-config[data-group=web] .error');
    await error.waitFor();
    assert.match(await error.innerText(), /refused[\s\S]*shared\/groups\/web\.yml:2/);
    assert.equal(readFileSync(file, 'utf8'), GOOD_CONFIG, 'the refused text was not written');
    await shot('groups-refused');
  });

  it('looks a digest up at a non-UTF-8 path, shown escaped', async () => {
    await open('known-hashes', 'table.sources');
    await page.fill('input[name=digest]', 'ab'.repeat(32));
    await page.fill('input[name=path]', `b64:${Buffer.concat([Buffer.from('/srv/caf'), Buffer.from([0xe9, 0x2e, 0x70, 0x68, 0x70])]).toString('base64')}`);
    await page.click('text=Look up');
    const result = page.locator('div.lookup');
    await result.waitFor();
    const text = await result.innerText();
    assert.match(text, /^unknown/);
    assert.match(text, /\/srv\/caf\S+\.php \(non-UTF-8 bytes escaped\)/);
    assert.ok(!text.includes('\uFFFD') && !text.includes('café'), text);
    await shot('known-hashes');
  });

  it('revokes an agent after a confirmation', async () => {
    await open('agents', 'table.agents');
    const row = page.locator(`tr[data-agent="${ids.db1}"]`);
    await row.locator('button', { hasText: 'Revoke' }).click();
    await shot('agents-confirm');
    await row.locator('button', { hasText: 'Confirm' }).click();
    await page.locator('.notice', { hasText: `Agent ${ids.db1} (db1) is revoked` }).waitFor();
    await page.locator(`tr[data-agent="${ids.db1}"] .status-revoked`).waitFor();
    const listed = await runCustos(['manager', 'agents', '--data', fleet.managerData, '--json']);
    const db1 = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; status: string })
      .find((a) => a.id === ids.db1);
    assert.equal(db1?.status, 'revoked');
    await page.goto(`${manager.url}/#/audit`);
    await page.waitForSelector('table.audit tbody tr');
    const audit = await page.locator('table.audit').innerText();
    for (const action of ['revoke-agent', 'create-token', 'revoke-token', 'start-maintenance', 'end-maintenance', 'edit-group-config'])
      assert.match(audit, new RegExp(`admin\\s+${action}`), action);
    await shot('agents');
  });

  it('shows a viewer the Operations pages without any change button, and the API refuses the changes', async () => {
    await page.click('text=Sign out');
    await page.waitForSelector('form.sign-in');
    await signIn('viewer');
    for (const [hash, selector] of [
      ['agents', 'table.agents'],
      ['tokens', 'table.tokens'],
      ['maintenance', 'table.windows'],
      ['groups', 'div.group-config'],
      ['known-hashes', 'table.sources'],
    ] as const) {
      await open(hash, selector);
      for (const label of ['Revoke', 'Create token', 'Start window', 'End', 'Edit configuration'])
        assert.equal(await page.locator('main button', { hasText: label }).count(), 0, `${hash}: ${label}`);
      await shot(`viewer-${hash}`);
    }
    assert.equal(await postFromPage('/api/tokens', {}), 403);
    assert.equal(await postFromPage('/api/maintenance', { duration: '1h' }), 403);
    assert.equal(await postFromPage('/api/maintenance/end', {}), 403);
    assert.equal(await postFromPage('/api/groups/web/config', { yaml: 'syscheck:\n  frequency: 1h\n' }), 403);
    assert.equal(await postFromPage(`/api/agents/${ids.web2}/revoke`, {}), 403);
    assert.equal(readFileSync(join(fleet.managerData, 'shared', 'groups', 'web.yml'), 'utf8'), GOOD_CONFIG);
    assert.ok(existsSync(join(fleet.managerData, 'hashdb.sqlite')));
  });
});
