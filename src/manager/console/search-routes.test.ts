import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { fileState } from '../../../test/support/file-states.js';
import { ADMIN, CONSOLE_ENGINES, VIEWER, changed, consoleApp, consoleFixture, signIn, type ConsoleFixture } from '../../../test/support/console-fixture.js';
import { dropSchemas } from '../../../test/support/postgres-test-url.js';
import { tempDir } from '../../../test/support/temp-dir.js';

interface Hit {
  agentId: string;
  agentName: string;
  path: string;
  pathB64: string;
  mode: string;
  sha256?: string;
}
interface Group {
  sha256?: string;
  mode: string;
  perm: string;
  uid: number;
  hostCount: number;
  hosts: { id: string; name: string }[];
  verdict?: { verdict: string };
}
interface PathAnswer {
  path: string;
  hostCount: number;
  groupCount: number;
  groups: Group[];
  nextOffset?: number;
}

// The fixture's baseline digests: every fixture file starts with the content of an empty file.
const EMPTY = fileState().hashes as { md5: string; sha1: string; sha256: string };

for (const engine of CONSOLE_ENGINES)
  describe(`console fleet search (${engine})`, () => {
    const dir = tempDir(`custos-console-search-${engine}-`);
    let fixture: ConsoleFixture;
    let app: FastifyInstance;
    let viewer: { cookie: string; csrf: string };
    const get = async <T>(url: string, who: { cookie: string } | 'anonymous' = viewer): Promise<{ status: number; body: T }> => {
      const reply = await app.inject({ url, headers: who === 'anonymous' ? {} : { cookie: who.cookie } });
      return { status: reply.statusCode, body: reply.json<T>() };
    };
    const ok = async <T>(url: string): Promise<T> => {
      const { status, body } = await get<T>(url);
      assert.equal(status, 200, JSON.stringify(body));
      return body;
    };

    before(async () => {
      fixture = await consoleFixture(dir, ['web-1', 'web-2', 'web-3', 'web-4', 'old-5'], engine);
      // web-3's ls has other content; web-4's ls has the same content but is setuid; web-1 and web-2 agree.
      await fixture.observe(2, [changed('/usr/bin/ls', 5, { inode: 3, mode: 0o755 })]);
      await fixture.observe(3, [fileState({ path: Buffer.from('/usr/bin/ls'), inode: 3, mode: 0o4755 })]);
      // A revoked host's baseline is not the fleet's: old-5 has yet another ls, and must not show.
      await fixture.observe(4, [changed('/usr/bin/ls', 9, { inode: 3, mode: 0o755 })]);
      await fixture.store.revokeAgent(fixture.agents[4]!.id, new Date().toISOString());
      app = await consoleApp(fixture);
      viewer = await signIn(app, VIEWER);
    });
    after(async () => {
      await app.close();
      await fixture.store.close();
      await dropSchemas(fixture.schema === undefined ? [] : [fixture.schema]);
    });

    it('refuses both searches without a session', async () => {
      assert.equal((await get(`/api/search/digest?digest=${EMPTY.sha256}`, 'anonymous')).status, 401);
      assert.equal((await get('/api/search/path?path=/usr/bin/ls', 'anonymous')).status, 401);
    });

    it('groups the hosts at a path by content, mode and owner, the odd hosts out first, with the recorded verdict', async () => {
      const answer = await ok<PathAnswer>('/api/search/path?path=/usr/bin/ls');
      assert.equal(answer.path, '/usr/bin/ls');
      assert.equal(answer.hostCount, 4, 'the revoked host is left out');
      assert.equal(answer.groupCount, 3);
      const [first, second, third] = answer.groups;
      // Single hosts first (by digest: '5'.repeat(64) sorts before the empty file's e3b0...), the majority last.
      assert.deepEqual(
        [first, second, third].map((g) => [g!.sha256, g!.mode, g!.hostCount, g!.hosts.map((h) => h.name)]),
        [
          ['5'.repeat(64), '0755', 1, ['web-3']],
          [EMPTY.sha256, '4755', 1, ['web-4']],
          [EMPTY.sha256, '0755', 2, ['web-1', 'web-2']],
        ],
      );
      assert.equal(second!.perm, 'rwsr-xr-x');
      // web-3's change to this content was recorded with its known-hash verdict (no database here: unknown).
      assert.equal(first!.verdict?.verdict, 'unknown');
      assert.equal(answer.nextOffset, undefined);
    });

    it('pages the groups and caps the hosts listed per group', async () => {
      const page1 = await ok<PathAnswer>('/api/search/path?path=/usr/bin/ls&limit=2&hostLimit=1');
      assert.deepEqual(
        page1.groups.map((g) => g.hosts.map((h) => h.name)),
        [['web-3'], ['web-4']],
      );
      assert.equal(page1.nextOffset, 2);
      const page2 = await ok<PathAnswer>(`/api/search/path?path=/usr/bin/ls&limit=2&hostLimit=1&offset=${page1.nextOffset}`);
      assert.deepEqual(
        page2.groups.map((g) => [g.hostCount, g.hosts.map((h) => h.name)]),
        [[2, ['web-1']]],
      );
      assert.equal(page2.nextOffset, undefined);
    });

    it('finds every host with a digest, whichever of md5, sha1 or sha256 is given, paged once each', async () => {
      const bySha = await ok<{ digest: string; hits: Hit[] }>(`/api/search/digest?digest=${'5'.repeat(64)}`);
      assert.equal(bySha.digest, 'sha256');
      assert.deepEqual(
        bySha.hits.map((h) => [h.agentName, h.path, h.mode]),
        [['web-3', '/usr/bin/ls', '0755']],
      );
      const byMd5 = await ok<{ digest: string; hits: Hit[] }>(`/api/search/digest?digest=${'5'.repeat(32)}`);
      assert.equal(byMd5.digest, 'md5');
      assert.deepEqual(
        byMd5.hits.map((h) => h.agentName),
        ['web-3'],
      );
      const bySha1Upper = await ok<{ digest: string; hits: Hit[] }>(`/api/search/digest?digest=${EMPTY.sha1.toUpperCase()}`);
      assert.equal(bySha1Upper.digest, 'sha1');
      // Four live hosts x three files, less web-3's changed ls: 11; the revoked host's files are not listed.
      const all = bySha1Upper.hits.map((h) => `${h.agentName}:${h.path}`);
      assert.equal(all.length, 11);
      assert.ok(!all.some((h) => h.startsWith('old-5')));
      assert.ok(!all.includes('web-3:/usr/bin/ls'));
      for (const size of [1, 4, 5]) {
        const seen: string[] = [];
        let next: string | undefined;
        do {
          const page = await ok<{ hits: Hit[]; next?: string }>(
            `/api/search/digest?digest=${EMPTY.sha1}&limit=${size}${next === undefined ? '' : `&after=${next}`}`,
          );
          seen.push(...page.hits.map((h) => `${h.agentName}:${h.path}`));
          next = page.next;
        } while (next !== undefined);
        assert.deepEqual(seen, all, `page size ${size}`);
      }
    });

    it('finds a path whose name is not UTF-8 by its exact bytes', async () => {
      const odd = Buffer.concat([Buffer.from('/etc/odd-'), Buffer.from([0xfe]), Buffer.from('x')]);
      await fixture.observe(0, [changed(odd, 11, { inode: 21 })]);
      const answer = await ok<PathAnswer>(`/api/search/path?pathB64=${encodeURIComponent(odd.toString('base64'))}`);
      assert.equal(answer.path, '/etc/odd-\\xfex');
      assert.deepEqual(
        answer.groups.map((g) => [g.sha256, g.hosts.map((h) => h.name)]),
        [['b'.repeat(64), ['web-1']]],
      );
      const hits = await ok<{ hits: Hit[] }>(`/api/search/digest?digest=${'b'.repeat(64)}`);
      assert.deepEqual(Buffer.from(hits.hits[0]!.pathB64, 'base64'), odd);
    });

    it('refuses bad input with 400 and says why', async () => {
      for (const bad of ['digest=xyz', 'digest=' + 'a'.repeat(33), 'digest=' + 'a'.repeat(64) + '&after=bm9wZQ', 'digest=' + 'a'.repeat(64) + '&limit=0']) {
        const { status, body } = await get<{ error?: string; message?: string }>(`/api/search/digest?${bad}`);
        assert.equal(status, 400, bad);
        assert.ok((body.error ?? body.message ?? '') !== '', bad);
      }
      for (const bad of ['', 'path=etc', 'pathB64=L%00', 'path=/x&hostLimit=0']) {
        assert.equal((await get(`/api/search/path?${bad}`)).status, 400, bad);
      }
    });

    it('answers admins too', async () => {
      const admin = await signIn(app, ADMIN);
      assert.equal((await get(`/api/search/path?path=/etc/hosts`, admin)).status, 200);
    });
  });
