import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { loadAgentIdentity } from '../../src/agent/enroll-agent.js';
import { eventually, type CustosService } from '../support/custos-service.js';
import { delivered, FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { CUSTOS_BIN } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The web console in a real browser (Debian's chromium, driven by playwright-core) against a real manager process
 * with its real SQLite store, and a real agent whose realtime changes become the alerts the console shows.
 * Screenshots of every page go to $CUSTOS_SCREENSHOTS (default /tmp/custos-console-screenshots), never committed.
 */

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SHOTS = process.env.CUSTOS_SCREENSHOTS ?? '/tmp/custos-console-screenshots';
const USERS = { admin: 'admin-password-1', viewer: 'viewer-password-1', mallory: 'mallory-password-1' } as const;

function addUser(data: string, name: keyof typeof USERS, role: 'admin' | 'viewer'): void {
  // The password goes on stdin, never argv.
  const out = execFileSync(process.execPath, [CUSTOS_BIN, 'manager', 'user', 'add', name, '--role', role, '--data', data], {
    input: `${USERS[name]}\n`,
    encoding: 'utf8',
  });
  assert.match(out, new RegExp(`created console user ${name} \\(${role}\\)`));
}

describe('web console in chromium', { timeout: 240_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-console-e2e-'));
  const www = join(fleet.dir, 'www');
  const agentData = join(fleet.dir, 'agent');
  let manager: ManagerHandle;
  let agent: CustosService | undefined;
  let context: BrowserContext;
  let page: Page;
  let agentId = '';

  const shot = async (name: string): Promise<void> => {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const signIn = async (name: string, password: string): Promise<void> => {
    await page.goto(manager.url);
    await page.fill('input[name=name]', name);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
  };
  /** A call from inside the page (same origin, its cookie), with or without the session's CSRF token. */
  const apiFromPage = (method: string, path: string, body: unknown, withCsrf: boolean): Promise<{ status: number; body: { error?: string } }> =>
    page.evaluate(
      async ({ method, path, body, withCsrf }) => {
        const session = (await (await fetch('/api/session')).json()) as { csrfToken: string };
        const headers: Record<string, string> = { 'content-type': 'application/json', ...(withCsrf ? { 'x-csrf-token': session.csrfToken } : {}) };
        const response = await fetch(path, { method, headers, body: JSON.stringify(body) });
        return { status: response.status, body: (await response.json()) as { error?: string } };
      },
      { method, path, body, withCsrf },
    );

  before(async () => {
    mkdirSync(www);
    writeFileSync(join(www, 'index.php'), '<?php echo "hello";\n');
    writeFileSync(join(www, 'config.php'), '<?php $db = "prod";\n');
    addUser(fleet.managerData, 'admin', 'admin');
    addUser(fleet.managerData, 'viewer', 'viewer');
    addUser(fleet.managerData, 'mallory', 'admin');
    manager = await fleet.startManager();
    const enrolled = await fleet.enroll(manager, 'web1', agentData, ['--name', 'web1']);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    agentId = enrolled.id ?? '';
    agent = fleet.startAgent(agentData, [www]);
    await agent.waitForMessage('watching in realtime');
    await delivered(agent, 0);
    context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'custos-chromium-')), {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_FLAGS,
      headless: true,
      // The manager's certificate is signed by its own CA, which this fresh profile does not know.
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    // No request may leave for anywhere but the manager.
    page.on('request', (r) => assert.ok(r.url().startsWith(manager.url) || r.url().startsWith('data:'), `request to ${r.url()}`));
  });
  after(async () => {
    await context?.close();
    await agent?.kill();
    await manager?.service.kill();
  });

  it('signs in and shows the fleet with the agent online', async () => {
    await page.goto(manager.url);
    await page.waitForSelector('form.sign-in');
    await shot('sign-in');
    await signIn('admin', USERS.admin);
    await page.waitForSelector('table.agents');
    const row = page.locator('table.agents tbody tr', { hasText: 'web1' });
    await row.waitFor();
    assert.match(await row.innerText(), new RegExp(`${agentId}\\s+web1\\s+online`));
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === '__Host-custos_session');
    assert.ok(session?.httpOnly && session.secure && session.sameSite === 'Strict', JSON.stringify(session));
    await shot('fleet');
  });

  it('shows a change on the agent arriving live in the alert list, filters it, and acknowledges it', async () => {
    await page.goto(`${manager.url}/#/alerts`);
    await page.waitForSelector('.live.on');
    writeFileSync(join(www, 'index.php'), '<?php system($_GET["c"]);\n');
    writeFileSync(join(www, 'config.php'), '<?php $db = "stolen";\n');
    const index = page.locator('table.alerts tbody tr.fresh', { hasText: join(www, 'index.php') });
    await index.waitFor({ timeout: 30_000 });
    await page.locator('table.alerts tbody tr.fresh', { hasText: join(www, 'config.php') }).waitFor({ timeout: 30_000 });
    assert.match(await index.innerText(), /550[\s\S]*Integrity checksum changed[\s\S]*unknown[\s\S]*open/);
    const id = await index.getAttribute('data-alert-id');
    await shot('alerts-live');

    await page.fill('input[name=path]', join(www, 'config.php'));
    await page.click('form.filters button[type=submit]');
    await eventually(async () => ((await page.locator('table.alerts tbody tr').count()) === 1 ? true : undefined), 10_000, 'one alert listed');
    assert.match(await page.locator('table.alerts tbody tr').innerText(), /config\.php/);
    await page.fill('input[name=path]', '');
    await page.click('form.filters button[type=submit]');
    await eventually(async () => ((await page.locator('table.alerts tbody tr').count()) === 2 ? true : undefined), 10_000, 'two alerts listed');

    await page.locator(`tr[data-alert-id="${id}"] input[type=checkbox]`).check();
    await page.click('text=Acknowledge 1');
    await page.locator(`tr[data-alert-id="${id}"]`).waitFor({ state: 'detached' });
    await page.selectOption('select[name=status]', 'acked');
    await page.click('form.filters button[type=submit]');
    const acked = page.locator(`tr[data-alert-id="${id}"]`);
    await acked.waitFor();
    assert.match(await acked.innerText(), /acknowledged by admin/);
  });

  it("opens a file's page with before/after and verdict, and accepts its current state", async () => {
    await page.goto(`${manager.url}/#/alerts`);
    await page.click(`a.path:text("${join(www, 'config.php')}")`);
    await page.waitForSelector('article.change');
    assert.equal(await page.locator('h1.path').innerText(), join(www, 'config.php'));
    const change = await page.locator('article.change').first().innerText();
    assert.match(change, /modified[\s\S]*rule 550/);
    assert.match(change, /Known-hash verdict: unknown/);
    assert.match(change, /sha256/);
    assert.equal(await page.locator('table.compare tr.changed td:first-child', { hasText: 'sha256' }).count(), 1);
    await shot('file');
    await page.click('text=Accept current state as baseline');
    await page.waitForSelector('.notice');
    assert.match(await page.locator('.notice').innerText(), /1 open alert\(s\) closed/);
    assert.match(await page.locator('article.change').first().innerText(), /acknowledged by admin \(accepted as baseline\)/);
  });

  it('shows the actions in the audit log', async () => {
    await page.goto(`${manager.url}/#/audit`);
    await page.waitForSelector('table.audit tbody tr');
    const text = await page.locator('table.audit').innerText();
    assert.match(text, /admin\s+accept-baseline\s+\S+:\S*config\.php\s+ok/);
    assert.match(text, /admin\s+acknowledge\s+\S+\s+ok/);
    assert.match(text, /admin\s+sign-in\s+ok/);
    await shot('audit');
    // Both changes are counted on the fleet page: in the chart's period and among the most changed paths.
    await page.goto(`${manager.url}/#/fleet`);
    await page.locator('table', { hasText: 'config.php' }).waitFor();
    assert.ok((await page.locator('figure.chart rect').count()) > 0, 'the chart has bars');
    await shot('fleet-after');
  });

  it('refuses a change without the CSRF token, and the API to an agent certificate', async () => {
    const ids = await page.evaluate(async () =>
      ((await (await fetch('/api/alerts?status=all')).json()) as { alerts: { id: string }[] }).alerts.map((a) => a.id),
    );
    const refused = await apiFromPage('POST', '/api/alerts/ack', { ids }, false);
    assert.equal(refused.status, 403);
    assert.match(refused.body.error ?? '', /csrf/i);
    const { endpoint } = loadAgentIdentity(agentData);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${manager.url}/api/alerts`,
        { ca: endpoint.ca, cert: endpoint.cert, key: endpoint.key, servername: 'localhost', checkServerIdentity: () => undefined },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 401, 'an agent certificate grants no console access');
  });

  it('signs out, and a viewer sees no admin actions and the API refuses them', async () => {
    await page.click('text=Sign out');
    await page.waitForSelector('form.sign-in');
    assert.equal(await page.evaluate(async () => (await fetch('/api/alerts')).status), 401);
    await signIn('viewer', USERS.viewer);
    await page.waitForSelector('table.agents');
    await page.goto(`${manager.url}/#/alerts?status=all`);
    await page.waitForSelector('table.alerts tbody tr');
    assert.equal(await page.locator('table.alerts input[type=checkbox]').count(), 0);
    assert.equal(await page.locator('button', { hasText: 'Acknowledge' }).count(), 0);
    await page.click(`a.path:text("${join(www, 'index.php')}")`);
    await page.waitForSelector('article.change');
    assert.equal(await page.locator('text=Accept current state as baseline').count(), 0);
    const pathB64 = Buffer.from(join(www, 'index.php')).toString('base64');
    const accept = await apiFromPage('POST', '/api/files/accept', { agent: agentId, pathB64 }, true);
    assert.equal(accept.status, 403);
    const revoke = await apiFromPage('POST', `/api/agents/${agentId}/revoke`, {}, true);
    assert.equal(revoke.status, 403);
    await shot('viewer-file');
  });

  it('locks an account after repeated wrong passwords, even against the right one', async () => {
    await page.click('text=Sign out');
    await page.waitForSelector('form.sign-in');
    for (let i = 0; i < 4; i++) {
      await signIn('mallory', 'wrong-password');
      await eventually(
        async () => ((await page.locator('.error').count()) > 0 && /wrong name or password/.test(await page.locator('.error').innerText()) ? true : undefined),
        10_000,
        'the refusal',
      );
    }
    await signIn('mallory', 'wrong-password');
    await page.locator('.error', { hasText: 'locked' }).waitFor();
    await signIn('mallory', USERS.mallory);
    await page.locator('.error', { hasText: 'locked' }).waitFor();
    assert.equal(await page.locator('table.agents').count(), 0);
    await shot('locked');
  });
});
