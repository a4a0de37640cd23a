import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { SqliteKnownHashStore } from '../../hashdb/sqlite-known-hash-store.js';
import { parseEnrollmentToken } from '../../protocol/enrollment-token.js';
import { sha256 } from '../enrollment-token.js';
import { ADMIN, CONSOLE_ENGINES, VIEWER, consoleApp, consoleFixture, signIn, type ConsoleFixture } from '../../../test/support/console-fixture.js';
import { dropSchemas } from '../../../test/support/postgres-test-url.js';
import { tempDir } from '../../../test/support/temp-dir.js';

const CA = 'ab'.repeat(32);
const LS_SHA256 = 'c0'.repeat(32);
const BAD_SHA256 = 'ee'.repeat(32);
// A non-UTF-8 path (Latin-1 "café"), as the lookup must show it: escaped, never mojibake.
const LATIN1 = Buffer.concat([Buffer.from('/opt/caf'), Buffer.from([0xe9])]);

const CHANGE_ROUTES: [string, string, unknown][] = [
  ['POST', '/api/tokens', {}],
  ['POST', '/api/tokens/0123456789ab/revoke', {}],
  ['POST', '/api/maintenance', { duration: '1h' }],
  ['POST', '/api/maintenance/end', {}],
  ['POST', '/api/groups/web/config', { yaml: 'syscheck:\n  frequency: 1h\n' }],
];
const READ_ROUTES = ['/api/tokens', '/api/maintenance', '/api/groups', '/api/known-hashes', `/api/known-hashes/lookup?digest=${LS_SHA256}`];

for (const engine of CONSOLE_ENGINES)
  describe(`console operations API (${engine})`, () => {
    const dir = tempDir(`custos-console-ops-${engine}-`);
    let fixture: ConsoleFixture;
    let knownHashes: SqliteKnownHashStore;
    let app: FastifyInstance;
    let admin: { cookie: string; csrf: string };
    let viewer: { cookie: string; csrf: string };
    const call = async (who: { cookie: string; csrf: string } | undefined, method: string, url: string, body?: unknown) =>
      app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...(who === undefined ? {} : { cookie: who.cookie, 'x-csrf-token': who.csrf }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    const auditActions = async (): Promise<{ action: string; outcome: string; actor: string; target?: string; details?: unknown }[]> =>
      (await call(admin, 'GET', '/api/audit')).json<{ entries: { action: string; outcome: string; actor: string }[] }>().entries;

    before(async () => {
      fixture = await consoleFixture(dir, undefined, engine);
      await fixture.store.setAgentGroup(fixture.agents[0]!.id, 'web');
      knownHashes = SqliteKnownHashStore.open(join(dir, 'hashdb.sqlite'));
      const session = await knownHashes.beginImport({ kind: 'manual', name: 'ops-fixture' });
      await session.add([
        { digest: Buffer.from(LS_SHA256, 'hex'), path: Buffer.from('/usr/bin/ls'), package: { name: 'coreutils', version: '9.1-1', arch: 'amd64' } },
        { digest: Buffer.from(BAD_SHA256, 'hex'), bad: true, label: 'test rootkit' },
      ]);
      await session.finish();
      app = await consoleApp(fixture, undefined, { dataDir: dir, caSha256: CA, tokenTtlMs: 3_600_000, knownHashes });
      admin = await signIn(app, ADMIN);
      viewer = await signIn(app, VIEWER);
    });
    after(async () => {
      await app.close();
      await knownHashes.close();
      await fixture.store.close();
      await dropSchemas(fixture.schema === undefined ? [] : [fixture.schema]);
    });

    it('answers 401 to every operations route without a session', async () => {
      for (const url of READ_ROUTES) assert.equal((await call(undefined, 'GET', url)).statusCode, 401, url);
      for (const [method, url, body] of CHANGE_ROUTES) assert.equal((await call(undefined, method, url, body)).statusCode, 401, url);
    });

    it('refuses every change to a viewer (403, audited as denied) and to an admin without the CSRF token', async () => {
      for (const [method, url, body] of CHANGE_ROUTES) {
        const reply = await call(viewer, method, url, body);
        assert.equal(reply.statusCode, 403, `${url}: ${reply.body}`);
        const noCsrf = await call({ cookie: admin.cookie, csrf: '' }, method, url, body);
        assert.equal(noCsrf.statusCode, 403, `${url} without CSRF: ${noCsrf.body}`);
      }
      const denied = (await auditActions()).filter((e) => e.outcome === 'denied' && e.actor === VIEWER.name).map((e) => e.action);
      assert.deepEqual(denied.sort(), ['create-token', 'edit-group-config', 'end-maintenance', 'revoke-token', 'start-maintenance']);
      assert.equal(existsSync(join(dir, 'shared', 'groups', 'web.yml')), false, 'a refused edit wrote nothing');
      // Reading is every signed-in user's.
      for (const url of READ_ROUTES) assert.equal((await call(viewer, 'GET', url)).statusCode, 200, url);
    });

    it('creates an enrollment token the store accepts once, pinned to the CA, its secret kept out of the audit log', async () => {
      const reply = await call(admin, 'POST', '/api/tokens', { ttl: '2h' });
      assert.equal(reply.statusCode, 200, reply.body);
      const { token, expiresAt } = reply.json<{ token: string; expiresAt: string }>();
      const parsed = parseEnrollmentToken(token);
      assert.ok(parsed !== undefined, token);
      assert.equal(parsed.caSha256, CA);
      const lifetime = Date.parse(expiresAt) - Date.now();
      assert.ok(lifetime > 3_500_000 && lifetime <= 7_200_000, expiresAt);
      assert.equal(await fixture.store.consumeEnrollmentToken(parsed.id, sha256(parsed.secret), new Date().toISOString(), 'new-host'), 'ok');
      assert.equal(await fixture.store.consumeEnrollmentToken(parsed.id, sha256(parsed.secret), new Date().toISOString(), 'again'), 'used');
      const entry = (await auditActions()).find((e) => e.action === 'create-token' && e.outcome === 'ok');
      assert.equal(entry?.target, parsed.id);
      assert.ok(!JSON.stringify(await auditActions()).includes(parsed.secret), 'the secret is not in the audit log');
      const listed = (await call(viewer, 'GET', '/api/tokens')).json<{ tokens: { id: string; status: string; usedBy?: string; expiresAt: string }[] }>().tokens;
      const mine = listed.find((t) => t.id === parsed.id);
      assert.deepEqual([mine?.status, mine?.usedBy, mine?.expiresAt], ['used', 'new-host', expiresAt]);
      assert.ok(!JSON.stringify(listed).includes(sha256(parsed.secret)), 'the list carries no secret hash');
      // A second token, revoked before use: enrolling with it then fails as expired.
      const second = parseEnrollmentToken((await call(admin, 'POST', '/api/tokens', {})).json<{ token: string }>().token)!;
      assert.deepEqual((await call(admin, 'POST', `/api/tokens/${second.id}/revoke`, {})).json(), { revoked: second.id });
      assert.equal((await call(admin, 'POST', `/api/tokens/${second.id}/revoke`, {})).statusCode, 404, 'already revoked');
      assert.equal(await fixture.store.consumeEnrollmentToken(second.id, sha256(second.secret), new Date().toISOString(), 'late'), 'expired');
      const after = (await call(viewer, 'GET', '/api/tokens')).json<{ tokens: { id: string; status: string }[] }>().tokens;
      assert.equal(after.find((t) => t.id === second.id)?.status, 'expired');
      assert.ok((await auditActions()).some((e) => e.action === 'revoke-token' && e.outcome === 'ok' && e.target === second.id));
      const bad = await call(admin, 'POST', '/api/tokens', { ttl: 'soon' });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json<{ error: string }>().error, /not a duration/);
    });

    it('starts a maintenance window that the store applies, lists it, and ends it', async () => {
      const agent = fixture.agents[1]!.id;
      const started = await call(admin, 'POST', '/api/maintenance', { duration: '30m', reason: 'kernel patch', agent });
      assert.equal(started.statusCode, 200, started.body);
      const inForce = await fixture.store.activeMaintenance(agent, new Date().toISOString());
      assert.equal(inForce?.reason, 'kernel patch');
      assert.equal(inForce?.startedBy, `console:${ADMIN.name}`);
      const listed = (await call(viewer, 'GET', '/api/maintenance')).json<{ windows: { id: number; active: boolean; agentId?: string }[] }>();
      assert.deepEqual(
        listed.windows.filter((w) => w.active).map((w) => w.agentId),
        [agent],
      );
      const ended = await call(admin, 'POST', '/api/maintenance/end', { agent });
      assert.deepEqual(ended.json(), { ended: 1 });
      assert.equal(await fixture.store.activeMaintenance(agent, new Date().toISOString()), undefined);
      assert.equal((await call(admin, 'POST', '/api/maintenance', { duration: '8d' })).statusCode, 400, 'longer than a week');
      assert.equal((await call(admin, 'POST', '/api/maintenance', { duration: '1h', agent: '999' })).statusCode, 404);
      const actions = (await auditActions()).filter((e) => e.outcome === 'ok').map((e) => e.action);
      assert.ok(actions.includes('start-maintenance') && actions.includes('end-maintenance'), actions.join());
    });

    it("edits a group's central configuration, and refuses a bad one with the config parser's error", async () => {
      const before = (await call(viewer, 'GET', '/api/groups')).json<{ groups: { name: string; agents: { id: string }[]; config?: unknown }[] }>();
      assert.deepEqual(before.groups, [{ name: 'web', agents: [{ id: fixture.agents[0]!.id, name: 'web-1' }] }]);
      const yaml = 'syscheck:\n  frequency: 2h\n  directories:\n    - path: /etc\n';
      const saved = await call(admin, 'POST', '/api/groups/web/config', { yaml });
      assert.equal(saved.statusCode, 200, saved.body);
      assert.equal(readFileSync(join(dir, 'shared', 'groups', 'web.yml'), 'utf8'), yaml);
      const after = (await call(viewer, 'GET', '/api/groups')).json<{ groups: { config?: { yaml: string; version: string } }[] }>();
      assert.equal(after.groups[0]?.config?.yaml, yaml);
      assert.equal(after.groups[0]?.config?.version, saved.json<{ version: string }>().version);
      const refused = await call(admin, 'POST', '/api/groups/web/config', { yaml: 'syscheck:\n  frequency: often\n' });
      assert.equal(refused.statusCode, 400, refused.body);
      const { error, issues } = refused.json<{ error: string; issues: string[] }>();
      assert.match(error, /shared\/groups\/web\.yml:2/);
      assert.ok(issues.length > 0);
      assert.equal(readFileSync(join(dir, 'shared', 'groups', 'web.yml'), 'utf8'), yaml, 'the refused text did not replace the file');
      assert.equal((await call(admin, 'POST', '/api/groups/..%2Fx/config', { yaml })).statusCode, 400, 'no path out of shared/groups');
      const outcomes = (await auditActions()).filter((e) => e.action === 'edit-group-config').map((e) => e.outcome);
      assert.ok(outcomes.includes('ok') && outcomes.includes('invalid'), outcomes.join());
    });

    it('shows the known-hash sources and looks a digest up, at a path or anywhere, non-UTF-8 paths escaped', async () => {
      const stats = (await call(viewer, 'GET', '/api/known-hashes')).json<{ sources: { name: string; rows: number }[] }>();
      assert.deepEqual(
        stats.sources.map((s) => [s.name, s.rows]),
        [['ops-fixture', 2]],
      );
      const lookup = async (digest: string, path?: Buffer) =>
        (
          await call(
            viewer,
            'GET',
            `/api/known-hashes/lookup?digest=${digest}${path === undefined ? '' : `&pathB64=${encodeURIComponent(path.toString('base64'))}`}`,
          )
        ).json<{ verdict: string; path?: string; pathB64?: string; atPath: { package?: { name: string } }[] }>();
      const atPath = await lookup(LS_SHA256, Buffer.from('/usr/bin/ls'));
      assert.equal(atPath.verdict, 'known-good');
      assert.equal(atPath.atPath[0]?.package?.name, 'coreutils');
      assert.equal((await lookup(LS_SHA256)).verdict, 'known-elsewhere');
      assert.equal((await lookup(LS_SHA256.toUpperCase(), Buffer.from('/usr/bin/evil'))).verdict, 'known-elsewhere');
      assert.equal((await lookup(BAD_SHA256)).verdict, 'known-bad');
      const odd = await lookup('11'.repeat(32), LATIN1);
      assert.equal(odd.verdict, 'unknown');
      assert.equal(odd.pathB64, LATIN1.toString('base64'));
      assert.ok(odd.path !== undefined && !odd.path.includes('\uFFFD') && odd.path.startsWith('/opt/caf') && odd.path !== '/opt/café', odd.path);
      assert.equal((await call(viewer, 'GET', '/api/known-hashes/lookup?digest=xyz')).statusCode, 400);
      assert.equal(
        (await call(viewer, 'GET', `/api/known-hashes/lookup?digest=${LS_SHA256}&pathB64=${encodeURIComponent(Buffer.from('etc/x').toString('base64'))}`))
          .statusCode,
        400,
        'a relative path',
      );
    });

    it('documents every operations route in the OpenAPI document', async () => {
      const doc = (await call(viewer, 'GET', '/api/openapi.json')).json<{ paths: Record<string, unknown> }>();
      for (const path of [
        '/api/tokens',
        '/api/maintenance',
        '/api/maintenance/end',
        '/api/groups',
        '/api/groups/{name}/config',
        '/api/known-hashes',
        '/api/known-hashes/lookup',
      ])
        assert.ok(path in doc.paths, `${path} in ${Object.keys(doc.paths).join(', ')}`);
    });
  });
