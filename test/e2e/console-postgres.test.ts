import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { request } from 'node:https';
import { after, describe, it } from 'node:test';
import { FleetHarness, type ManagerHandle } from '../support/fleet-harness.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../support/postgres-test-url.js';
import { CUSTOS_BIN } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/** A real manager process on PostgreSQL serves the console: accounts made with the CLI sign in, the API answers. */

const schema = testSchemaName('custos_console_e2e');
const managerYaml = `database:\n  engine: postgres\n  url: ${schemaUrl(schema)}\nmanager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\n`;

function call(
  url: string,
  options: { method?: string; cookie?: string; body?: unknown } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    // The manager's certificate is signed by its own CA; this test checks the console, not the certificate.
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        rejectUnauthorized: false,
        headers: {
          ...(options.cookie === undefined ? {} : { cookie: options.cookie }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('web console on a PostgreSQL store', { timeout: 120_000 }, () => {
  const fleet = new FleetHarness(tempDir('custos-console-pg-'), managerYaml);
  let manager: ManagerHandle | undefined;
  after(async () => {
    await manager?.service.kill();
    await dropSchemas([schema]);
  });

  it('signs in an account the CLI made and answers the API', async () => {
    const out = execFileSync(process.execPath, [CUSTOS_BIN, 'manager', 'user', 'add', 'carol', '--role', 'admin', '--data', fleet.managerData], {
      input: 'carol-password-1\n',
      encoding: 'utf8',
    });
    assert.match(out, /created console user carol \(admin\)/);
    manager = await fleet.startManager();
    assert.equal((await call(`${manager.url}/api/fleet`)).status, 401);
    assert.equal((await call(`${manager.url}/api/session`, { method: 'POST', body: { name: 'carol', password: 'wrong' } })).status, 401);
    const signIn = await call(`${manager.url}/api/session`, { method: 'POST', body: { name: 'carol', password: 'carol-password-1' } });
    assert.equal(signIn.status, 200, signIn.body);
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
    const fleetPage = await call(`${manager.url}/api/fleet`, { cookie });
    assert.equal(fleetPage.status, 200, fleetPage.body);
    assert.deepEqual((JSON.parse(fleetPage.body) as { agents: unknown[] }).agents, []);
    const search = await call(`${manager.url}/api/search/path?path=/etc/hosts`, { cookie });
    assert.equal(search.status, 200, search.body);
    assert.equal((JSON.parse(search.body) as { hostCount: number }).hostCount, 0);
    const audit = JSON.parse((await call(`${manager.url}/api/audit`, { cookie })).body) as { entries: { actor: string; action: string; outcome: string }[] };
    assert.deepEqual(audit.entries.map((e) => `${e.actor} ${e.action} ${e.outcome}`).slice(0, 3), [
      'carol sign-in ok',
      'carol sign-in bad-credentials',
      `${audit.entries[2]?.actor} user-add ok`,
    ]);
  });
});
