import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ADMIN, CONSOLE_ENGINES, VIEWER, changed, consoleApp, consoleFixture, signIn, type ConsoleFixture } from '../../../test/support/console-fixture.js';
import { dropSchemas } from '../../../test/support/postgres-test-url.js';
import { tempDir } from '../../../test/support/temp-dir.js';

interface AlertLine {
  id: string;
  agentId: string;
  ruleId: number;
  level: number;
  path?: string;
  pathB64?: string;
  event?: string;
  ack?: { by: string };
}

// One suite, run over each store engine the console serves from (as the store contract does).
for (const engine of CONSOLE_ENGINES)
  describe(`console API (${engine})`, () => {
    const dir = tempDir(`custos-console-${engine}-`);
    let fixture: ConsoleFixture;
    let app: FastifyInstance;
    let admin: { cookie: string; csrf: string };
    let viewer: { cookie: string; csrf: string };
    const as = (who: { cookie: string; csrf?: string }, csrf = true) => ({
      cookie: who.cookie,
      ...(csrf && who.csrf !== undefined ? { 'x-csrf-token': who.csrf } : {}),
    });
    const alertsOf = async (query: string, who = admin): Promise<{ alerts: AlertLine[]; next?: string }> => {
      const reply = await app.inject({ url: `/api/alerts?${query}`, headers: as(who) });
      assert.equal(reply.statusCode, 200, reply.body);
      return reply.json();
    };

    before(async () => {
      fixture = await consoleFixture(dir, undefined, engine);
      // web-1: /etc/hosts changed twice, /usr/bin/ls once, a new file; db-1: /etc/passwd changed.
      await fixture.observe(0, [changed('/etc/hosts', 1)]);
      await fixture.observe(0, [changed('/etc/hosts', 2), changed('/usr/bin/ls', 3, { inode: 3, mode: 0o4755 })]);
      await fixture.observe(0, [changed('/etc/cron.d/evil', 4, { inode: 9 })]);
      await fixture.observe(1, [changed('/etc/passwd', 5, { inode: 2 })]);
      app = await consoleApp(fixture);
      admin = await signIn(app, ADMIN);
      viewer = await signIn(app, VIEWER);
    });
    after(async () => {
      await app.close();
      await fixture.store.close();
      await dropSchemas(fixture.schema === undefined ? [] : [fixture.schema]);
    });

    it('answers 401 to every API route without a session, whatever else the request carries', async () => {
      const routes: [string, string][] = [
        ['GET', '/api/session'],
        ['DELETE', '/api/session'],
        ['GET', '/api/fleet'],
        ['GET', '/api/alerts'],
        ['GET', '/api/alerts/stream'],
        ['POST', '/api/alerts/ack'],
        ['GET', '/api/files?agent=001&pathB64=L2V0Yy9ob3N0cw=='],
        ['POST', '/api/files/accept'],
        ['POST', '/api/agents/001/revoke'],
        ['GET', '/api/audit'],
        ['GET', '/api/search/digest?digest=d41d8cd98f00b204e9800998ecf8427e'],
        ['GET', '/api/search/path?path=/etc/hosts'],
        ['GET', '/api/openapi.json'],
        // Operations (their own tests: operations-routes.test.ts)
        ['GET', '/api/tokens'],
        ['POST', '/api/tokens'],
        ['POST', '/api/tokens/0123456789ab/revoke'],
        ['GET', '/api/maintenance'],
        ['POST', '/api/maintenance'],
        ['POST', '/api/maintenance/end'],
        ['GET', '/api/groups'],
        ['POST', '/api/groups/web/config'],
        ['GET', '/api/known-hashes'],
        ['GET', '/api/known-hashes/lookup?digest=d41d8cd98f00b204e9800998ecf8427e'],
      ];
      for (const [method, url] of routes) {
        for (const cookie of [undefined, '__Host-custos_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'custos_session=x']) {
          const reply = await app.inject({
            method: method as 'GET',
            url,
            headers: { ...(cookie === undefined ? {} : { cookie }), 'content-type': 'application/json' },
            ...(method === 'POST' ? { payload: '{}' } : {}),
          });
          assert.equal(reply.statusCode, 401, `${method} ${url} with ${cookie ?? 'no cookie'}: ${reply.body}`);
        }
      }
    });

    it('signs in with a secure session cookie whose token is stored only hashed', async () => {
      const reply = await app.inject({ method: 'POST', url: '/api/session', payload: ADMIN });
      assert.equal(reply.statusCode, 200);
      const cookie = String(reply.headers['set-cookie']);
      assert.match(cookie, /^__Host-custos_session=[A-Za-z0-9_-]{43}; Path=\/; Secure; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
      const token = cookie.split(';')[0]!.split('=')[1]!;
      const rows = await fixture.tableRows('console_sessions');
      assert.ok(rows.length >= 3);
      assert.ok(!JSON.stringify(rows).includes(token), 'the raw token is not stored');
      assert.equal(reply.json<{ role: string }>().role, 'admin');
      assert.match(String(reply.headers['content-security-policy']), /script-src 'self'/);
      assert.equal(reply.headers['cache-control'], 'no-store');
    });

    it('refuses a wrong password, then locks the account (even the right password) after repeated failures, all audited', async () => {
      const wrong = { name: VIEWER.name, password: 'not-the-password' };
      assert.equal((await app.inject({ method: 'POST', url: '/api/session', payload: { name: 'nobody', password: 'x' } })).statusCode, 401);
      assert.equal((await app.inject({ method: 'POST', url: '/api/session', payload: wrong })).statusCode, 401);
      assert.equal((await app.inject({ method: 'POST', url: '/api/session', payload: wrong })).statusCode, 401);
      const third = await app.inject({ method: 'POST', url: '/api/session', payload: wrong });
      assert.equal(third.statusCode, 429);
      assert.match(third.json<{ error: string }>().error, /locked/);
      const right = await app.inject({ method: 'POST', url: '/api/session', payload: VIEWER });
      assert.equal(right.statusCode, 429, 'a locked account is refused even with its password');
      const audit = (await app.inject({ url: '/api/audit?limit=10', headers: as(admin) })).json<{
        entries: { actor: string; action: string; outcome: string }[];
      }>();
      const signIns = audit.entries.filter((e) => e.action === 'sign-in' && e.actor === VIEWER.name).map((e) => e.outcome);
      assert.deepEqual(signIns.slice(0, 4), ['locked', 'locked', 'bad-credentials', 'bad-credentials']);
      // The sessions it had stay valid: a lock stops guessing, not work in progress.
      assert.equal((await app.inject({ url: '/api/session', headers: as(viewer) })).statusCode, 200);
    });

    it('refuses a change without the CSRF token, with a wrong one, or with a non-JSON body, and audits the refusals', async () => {
      const [first] = (await alertsOf('status=open&limit=1')).alerts;
      const payload = { ids: [first!.id] };
      const none = await app.inject({ method: 'POST', url: '/api/alerts/ack', headers: as(admin, false), payload });
      assert.equal(none.statusCode, 403);
      const wrong = await app.inject({ method: 'POST', url: '/api/alerts/ack', headers: { cookie: admin.cookie, 'x-csrf-token': viewer.csrf }, payload });
      assert.equal(wrong.statusCode, 403);
      const form = await app.inject({
        method: 'POST',
        url: '/api/alerts/ack',
        headers: { ...as(admin), 'content-type': 'text/plain' },
        payload: JSON.stringify(payload),
      });
      assert.equal(form.statusCode, 415);
      assert.equal((await alertsOf(`status=acked`)).alerts.length, 0, 'nothing was acknowledged');
      const audit = (await app.inject({ url: '/api/audit?limit=5', headers: as(admin) })).json<{ entries: { action: string; outcome: string }[] }>();
      assert.equal(audit.entries.filter((e) => e.outcome === 'csrf-refused').length, 2);
    });

    it('lists alerts newest first with server-side filters', async () => {
      const all = (await alertsOf('limit=100')).alerts;
      const files = all.filter((a) => a.path !== undefined);
      assert.deepEqual(
        files.map((a) => `${a.agentId}:${a.ruleId}:${a.path}`).sort(),
        ['001:550:/etc/hosts', '001:550:/etc/hosts', '001:550:/usr/bin/ls', '001:554:/etc/cron.d/evil', '002:550:/etc/passwd'].sort(),
      );
      assert.deepEqual(
        (await alertsOf('agent=002')).alerts.map((a) => a.path),
        ['/etc/passwd'],
      );
      assert.deepEqual(
        (await alertsOf('path=/etc/hosts')).alerts.map((a) => a.path),
        ['/etc/hosts', '/etc/hosts'],
      );
      assert.deepEqual(
        (await alertsOf('path=/usr')).alerts.map((a) => a.path),
        ['/usr/bin/ls'],
      );
      assert.deepEqual(
        (await alertsOf('rule=554')).alerts.map((a) => a.path),
        ['/etc/cron.d/evil'],
      );
      const minLevel = Math.max(...files.map((a) => a.level));
      assert.ok((await alertsOf(`minLevel=${minLevel}`)).alerts.every((a) => a.level >= minLevel));
      assert.equal((await alertsOf(`since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).alerts.length, 0);
      assert.equal((await alertsOf(`until=2000-01-01T00:00:00Z`)).alerts.length, 0);
      for (const bad of ['since=yesterday', 'minLevel=99', 'after=bm9wZQ', 'pathB64=L%00', 'agent=../x', 'status=maybe', 'limit=0']) {
        const reply = await app.inject({ url: `/api/alerts?${bad}`, headers: as(admin) });
        assert.equal(reply.statusCode, 400, `${bad}: ${reply.body}`);
      }
    });

    it('pages with a keyset cursor: every alert once, in order, whatever the page size', async () => {
      const all = (await alertsOf('limit=500')).alerts.map((a) => a.id);
      for (const size of [1, 2, 3]) {
        const seen: string[] = [];
        let next: string | undefined;
        do {
          const page = await alertsOf(`limit=${size}${next === undefined ? '' : `&after=${next}`}`);
          seen.push(...page.alerts.map((a) => a.id));
          next = page.next;
        } while (next !== undefined);
        assert.deepEqual(seen, all, `page size ${size}`);
      }
    });

    it('lets a viewer read but not acknowledge, accept or revoke: the API refuses and audits it', async () => {
      const [first] = (await alertsOf('status=open&limit=1', viewer)).alerts;
      const hosts = Buffer.from('/etc/hosts').toString('base64');
      const attempts = [
        { url: '/api/alerts/ack', payload: { ids: [first!.id] } },
        { url: '/api/files/accept', payload: { agent: '001', pathB64: hosts } },
        { url: '/api/agents/002/revoke', payload: {} },
      ];
      for (const { url, payload } of attempts) {
        const reply = await app.inject({ method: 'POST', url, headers: as(viewer), payload });
        assert.equal(reply.statusCode, 403, `${url}: ${reply.body}`);
        assert.match(reply.json<{ error: string }>().error, /admin role/);
      }
      assert.equal((await alertsOf('status=acked')).alerts.length, 0);
      assert.equal((await fixture.store.getAgent('002'))?.revokedAt, undefined);
      const audit = (await app.inject({ url: '/api/audit?limit=3', headers: as(admin) })).json<{
        entries: { actor: string; action: string; outcome: string }[];
      }>();
      assert.deepEqual(
        audit.entries.map((e) => `${e.actor} ${e.action} ${e.outcome}`),
        ['victor revoke-agent denied', 'victor accept-baseline denied', 'victor acknowledge denied'],
      );
    });

    it('acknowledges alerts for an admin, once, and the open filter then leaves them out', async () => {
      const open = (await alertsOf('status=open&agent=002')).alerts;
      assert.equal(open.length, 1);
      const reply = await app.inject({ method: 'POST', url: '/api/alerts/ack', headers: as(admin), payload: { ids: [open[0]!.id, 'no-such-alert'] } });
      assert.equal(reply.statusCode, 200, reply.body);
      assert.deepEqual(reply.json<{ acknowledged: string[] }>().acknowledged, [open[0]!.id]);
      const again = await app.inject({ method: 'POST', url: '/api/alerts/ack', headers: as(admin), payload: { ids: [open[0]!.id] } });
      assert.deepEqual(again.json<{ acknowledged: string[] }>().acknowledged, []);
      assert.equal((await alertsOf('status=open&agent=002')).alerts.length, 0);
      const acked = (await alertsOf('status=acked')).alerts;
      assert.deepEqual(
        acked.map((a) => [a.id, a.ack?.by]),
        [[open[0]!.id, ADMIN.name]],
      );
    });

    it("shows a file's history with before/after and verdict, and accepting it closes its open alerts", async () => {
      const pathB64 = Buffer.from('/etc/hosts').toString('base64');
      const page = (await app.inject({ url: `/api/files?agent=001&pathB64=${encodeURIComponent(pathB64)}`, headers: as(viewer) })).json<{
        path: string;
        current: { sha256: string; size: number };
        openAlerts: string[];
        history: {
          event: string;
          changed: string[];
          before?: { sha256: string };
          after?: { sha256: string; perm: string };
          verdict: { verdict: string };
          alertId?: string;
          outcome: string;
        }[];
      }>();
      assert.equal(page.path, '/etc/hosts');
      assert.equal(page.current.sha256, '2'.repeat(64));
      assert.deepEqual(
        page.history.map((h) => [h.event, h.before?.sha256, h.after?.sha256, h.verdict.verdict, h.outcome]),
        [
          ['modified', '1'.repeat(64), '2'.repeat(64), 'unknown', 'alerted'],
          ['modified', undefined, '1'.repeat(64), 'unknown', 'alerted'].map((v, i) => (i === 1 ? page.history[1]!.before?.sha256 : v)),
        ],
      );
      assert.ok(page.history[0]!.changed.includes('sha256'));
      assert.equal(page.openAlerts.length, 2);
      const accept = await app.inject({ method: 'POST', url: '/api/files/accept', headers: as(admin), payload: { agent: '001', pathB64 } });
      assert.equal(accept.statusCode, 200, accept.body);
      assert.equal(accept.json<{ acknowledged: string[] }>().acknowledged.length, 2);
      const after = (await app.inject({ url: `/api/files?agent=001&pathB64=${encodeURIComponent(pathB64)}`, headers: as(admin) })).json<{
        openAlerts: string[];
        history: { ack?: { by: string; note: string } }[];
      }>();
      assert.deepEqual(after.openAlerts, []);
      assert.equal(after.history[0]!.ack?.by, ADMIN.name);
      assert.equal(after.history[0]!.ack?.note, 'accepted as baseline');
      const audit = (await app.inject({ url: '/api/audit?limit=1', headers: as(admin) })).json<{
        entries: { actor: string; action: string; target: string; details: { acknowledged: number; sha256: string } }[];
      }>();
      assert.deepEqual(audit.entries[0], { ...audit.entries[0], actor: ADMIN.name, action: 'accept-baseline', target: '001:/etc/hosts' });
      assert.equal(audit.entries[0].details.sha256, '2'.repeat(64));
    });

    it('gives the fleet overview: agents with status and open alerts by level, alerts over time, most changed paths', async () => {
      const fleet = (await app.inject({ url: '/api/fleet', headers: as(viewer) })).json<{
        agents: { id: string; name: string; status: string; openAlerts: Record<string, number> }[];
        alertsOverTime: { bucket: string; level: number; count: number }[];
        mostChanged: { agentId: string; path: string; changes: number }[];
      }>();
      assert.deepEqual(
        fleet.agents.map((a) => [a.id, a.name, a.status]),
        [
          ['001', 'web-1', 'online'],
          ['002', 'db-1', 'online'],
        ],
      );
      // web-1: /usr/bin/ls and /etc/cron.d/evil are open (hosts was accepted); db-1's alert was acknowledged.
      assert.equal(
        Object.values(fleet.agents[0]!.openAlerts).reduce((a, b) => a + b, 0),
        2,
      );
      assert.deepEqual(fleet.agents[1]!.openAlerts, {});
      assert.equal(
        fleet.alertsOverTime.reduce((a, b) => a + b.count, 0),
        5,
      );
      assert.deepEqual(fleet.mostChanged[0], { ...fleet.mostChanged[0], agentId: '001', path: '/etc/hosts', changes: 2 });
    });

    it('revokes an agent for an admin (audited), and 404s one that is not there', async () => {
      const reply = await app.inject({ method: 'POST', url: '/api/agents/002/revoke', headers: as(admin) });
      assert.equal(reply.statusCode, 200, reply.body);
      assert.notEqual((await fixture.store.getAgent('002'))?.revokedAt, undefined);
      assert.equal((await app.inject({ method: 'POST', url: '/api/agents/002/revoke', headers: as(admin) })).statusCode, 404);
      const fleet = (await app.inject({ url: '/api/fleet', headers: as(admin) })).json<{ agents: { id: string; status: string }[] }>();
      assert.equal(fleet.agents.find((a) => a.id === '002')?.status, 'revoked');
    });

    it('shows non-UTF-8 paths escaped, with their exact bytes recoverable', async () => {
      const odd = Buffer.concat([Buffer.from('/etc/bad-'), Buffer.from([0xff, 0x0a]), Buffer.from('name')]);
      await fixture.observe(0, [changed(odd, 7, { inode: 11 })]);
      const [alert] = (await alertsOf('rule=554&limit=1')).alerts as (AlertLine & { pathExact: boolean })[];
      assert.equal(alert!.path, '/etc/bad-\\xff\\nname');
      assert.equal(alert!.pathExact, false);
      assert.deepEqual(Buffer.from(alert!.pathB64!, 'base64'), odd);
    });

    it("documents every API route in /api/openapi.json, from the routes' own schemas", async () => {
      type Operation = { parameters: { name: string; in: string; required: boolean }[]; requestBody?: unknown; responses: Record<string, unknown> };
      const doc = (await app.inject({ url: '/api/openapi.json', headers: as(viewer) })).json<{
        openapi: string;
        paths: Record<string, Record<string, Operation>>;
      }>();
      assert.equal(doc.openapi, '3.1.0');
      const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
      assert.deepEqual(operations.sort(), [
        'DELETE /api/session',
        'GET /api/alerts',
        'GET /api/alerts/stream',
        'GET /api/audit',
        'GET /api/files',
        'GET /api/fleet',
        'GET /api/groups',
        'GET /api/known-hashes',
        'GET /api/known-hashes/lookup',
        'GET /api/maintenance',
        'GET /api/openapi.json',
        'GET /api/search/digest',
        'GET /api/search/path',
        'GET /api/session',
        'GET /api/tokens',
        'POST /api/agents/{id}/revoke',
        'POST /api/alerts/ack',
        'POST /api/files/accept',
        'POST /api/groups/{name}/config',
        'POST /api/maintenance',
        'POST /api/maintenance/end',
        'POST /api/session',
        'POST /api/tokens',
        'POST /api/tokens/{id}/revoke',
      ]);
      const alerts = doc.paths['/api/alerts']!.get!;
      assert.deepEqual(alerts.parameters.map((p) => p.name).sort(), [
        'after',
        'agent',
        'limit',
        'minLevel',
        'path',
        'pathB64',
        'rule',
        'since',
        'status',
        'until',
      ]);
      assert.deepEqual(
        doc.paths['/api/search/digest']!.get!.parameters.filter((p) => p.required).map((p) => p.name),
        ['digest'],
      );
      const ack = doc.paths['/api/alerts/ack']!.post!;
      assert.ok(ack.requestBody !== undefined);
      assert.ok(ack.parameters.some((p) => p.name === 'x-csrf-token' && p.in === 'header' && p.required));
      assert.ok('403' in ack.responses);
      assert.ok(!doc.paths['/api/session']!.post!.parameters.some((p) => p.name === 'x-csrf-token'), 'sign-in needs no CSRF token');
    });

    it('signs out: the session is gone and the cookie cleared', async () => {
      const session = await signIn(app, ADMIN);
      const reply = await app.inject({ method: 'DELETE', url: '/api/session', headers: as(session) });
      assert.equal(reply.statusCode, 200);
      assert.match(String(reply.headers['set-cookie']), /Max-Age=0/);
      assert.equal((await app.inject({ url: '/api/session', headers: as(session) })).statusCode, 401);
    });
  });
