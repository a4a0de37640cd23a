import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { KnownHashStore } from '../../src/hashdb/known-hash-store.js';

/**
 * How a contract suite opens an engine's known-hash database: `name` picks the database (the same name twice is
 * two stores on one database, as two processes would have), `bloom` keeps in-memory Bloom filters (resolved once
 * they are ready, so the filtered path is the one tested).
 */
export interface KnownHashEngine {
  open(name: string, options?: { readonly bloom?: boolean }): Promise<KnownHashStore>;
}

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const pkg = { name: 'coreutils', version: '9.1-1', arch: 'amd64' };
/** How long a reader with filters may take to see another process's import (SQLite rechecks every 50 ms). */
const FRESHNESS_MS = 60;

/** The known-hash store's contract: imports and lookups, answered the same by every engine. */
export function describeKnownHashStoreContract(engine: string, e: KnownHashEngine): void {
  describe(`KnownHashStore contract (${engine})`, () => {
    it('answers by path (and usrmerge alias), elsewhere and bad, the same with and without Bloom filters', async () => {
      const store = await e.open('a');
      const session = await store.beginImport({ kind: 'deb-verified', name: 'Debian bookworm' });
      await session.add([
        { digest: sha('ls'), path: Buffer.from('/bin/ls'), package: pkg },
        { digest: sha('dir'), path: Buffer.from('/usr/bin/dir'), package: pkg },
      ]);
      assert.deepEqual(await session.finish(), { rows: 2, inserted: 2 });
      const bad = await store.beginImport({ kind: 'manual', name: 'feed' });
      await bad.add([{ digest: sha('evil'), bad: true, label: 'Mirai' }]);
      await bad.finish();
      await store.close();
      for (const bloom of [false, true]) {
        const s = await e.open('a', { bloom });
        const hex = (b: Buffer): { sha256: string } => ({ sha256: b.toString('hex') });
        const atAlias = await s.lookup(Buffer.from('/usr/bin/ls'), hex(sha('ls')));
        assert.equal(atAlias.atPath.length, 1, 'dpkg and .debs say /bin/ls; the scanner sees /usr/bin/ls');
        assert.equal(atAlias.atPath[0]?.package?.name, 'coreutils');
        const misplaced = await s.lookup(Buffer.from('/usr/bin/ls'), hex(sha('dir')));
        assert.deepEqual([misplaced.atPath.length, misplaced.elsewhere.map((x) => x.path?.toString())], [0, ['/usr/bin/dir']]);
        const evil = await s.lookup(Buffer.from('/tmp/x'), hex(sha('evil')));
        assert.deepEqual(
          evil.bad.map((x) => x.label),
          ['Mirai'],
        );
        const unknown = await s.lookup(Buffer.from('/tmp/x'), hex(sha('nothing')));
        assert.deepEqual([unknown.atPath, unknown.elsewhere, unknown.bad], [[], [], []]);
        await s.close();
      }
    });

    it('answers a batch of lookups exactly as one lookup each, bad-only queries from the bad lists alone', async () => {
      const store = await e.open('many');
      const good = await store.beginImport({ kind: 'deb-verified', name: 'Debian bookworm' });
      await good.add([
        { digest: sha('ls'), path: Buffer.from('/bin/ls'), package: pkg },
        { digest: createHash('md5').update('cat').digest(), path: Buffer.from('/usr/bin/cat'), package: pkg },
      ]);
      await good.finish();
      const bad = await store.beginImport({ kind: 'manual', name: 'feed' });
      await bad.add([{ digest: sha('evil'), bad: true, label: 'Mirai' }]);
      await bad.finish();
      await store.close();
      const md5 = (t: string): string => createHash('md5').update(t).digest('hex');
      const queries = [
        { path: Buffer.from('/usr/bin/ls'), hashes: { sha256: sha('ls').toString('hex'), md5: md5('ls') } },
        { path: Buffer.from('/usr/bin/cat'), hashes: { sha256: sha('cat').toString('hex'), md5: md5('cat') } },
        { path: Buffer.from('/usr/bin/cat'), hashes: { md5: md5('cat') }, badOnly: true },
        { path: Buffer.from('/tmp/x'), hashes: { sha256: sha('evil').toString('hex') } },
        { path: Buffer.from('/tmp/x'), hashes: { sha256: sha('evil').toString('hex') }, badOnly: true },
        { path: Buffer.from('/tmp/y'), hashes: { sha256: sha('nothing').toString('hex') } },
        { path: Buffer.from('/tmp/z'), hashes: {} },
      ];
      for (const bloom of [false, true]) {
        const s = await e.open('many', { bloom });
        const one = await Promise.all(
          queries.map(async (q) => (q.badOnly === true ? { atPath: [], elsewhere: [], bad: await s.lookupBad(q.hashes) } : s.lookup(q.path, q.hashes))),
        );
        const many = await s.lookupMany(queries);
        assert.deepEqual(many, one);
        assert.equal(many[0]?.atPath[0]?.package?.name, 'coreutils', 'found at its usrmerge alias');
        assert.equal(many[1]?.atPath[0]?.algorithm, 'md5', 'only the MD5 is known for cat');
        assert.deepEqual([many[2]?.atPath, many[4]?.bad.map((x) => x.label)], [[], ['Mirai']]);
        await s.close();
      }
    });

    it('finds the path of a digest known at many places (the empty file)', async () => {
      const store = await e.open('b');
      const session = await store.beginImport({ kind: 'manual', name: 'm' });
      await session.add(Array.from({ length: 200 }, (_, i) => ({ digest: sha(''), path: Buffer.from(`/usr/share/empty/${i}`) })));
      await session.finish();
      const r = await store.lookup(Buffer.from('/usr/share/empty/150'), { sha256: sha('').toString('hex') });
      assert.equal(r.atPath.length, 1);
      assert.equal(r.elsewhere.length, 8);
      await store.close();
    });

    it('counts rows and ignores duplicates, in one batch and across imports', async () => {
      const store = await e.open('dup');
      const session = await store.beginImport({ kind: 'manual', name: 'm' });
      await session.add([{ digest: sha('x'), path: Buffer.from('/x') }, { digest: sha('x'), path: Buffer.from('/x') }, { digest: sha('y') }]);
      assert.deepEqual(await session.finish(), { rows: 3, inserted: 2 });
      const again = await store.beginImport({ kind: 'manual', name: 'm' });
      await again.add([{ digest: sha('y') }, { digest: sha('z'), bad: true, label: 'z' }]);
      assert.deepEqual(await again.finish(), { rows: 2, inserted: 1 });
      const stats = await store.stats();
      assert.deepEqual([stats.knownRows, stats.badRows, stats.sources.map((s) => [s.kind, s.name, s.rows])], [2, 1, [['manual', 'm', 3]]]);
      assert.ok((await store.lastImport({ kind: 'manual', name: 'm' })) instanceof Date);
      assert.equal(await store.lastImport({ kind: 'manual', name: 'never' }), undefined);
      await store.close();
    });

    it('a store opened with filters before an import by another process answers from them after it', async () => {
      const first = await e.open('c', { bloom: true });
      await first.close();
      const writer = await e.open('c');
      const session = await writer.beginImport({ kind: 'manual', name: 'm' });
      await session.add([{ digest: sha('late'), path: Buffer.from('/late') }]);
      await session.finish();
      await writer.close();
      const reader = await e.open('c', { bloom: true });
      assert.equal((await reader.lookup(Buffer.from('/late'), { sha256: sha('late').toString('hex') })).atPath.length, 1);
      await reader.close();
    });

    it('two stores on one database: what one imports, the other (with filters, running) sees, known-bad first', async () => {
      const reader = await e.open('d', { bloom: true });
      const unknown = { sha256: sha('dropper').toString('hex') };
      assert.deepEqual(await reader.lookupBad(unknown), []);
      // `custos hashdb import --bad` and an apt hook import, or another manager: a store of its own, no filters.
      const writer = await e.open('d');
      const bad = await writer.beginImport({ kind: 'manual', name: 'feed' });
      await bad.add([{ digest: sha('dropper'), bad: true, label: 'dropper' }]);
      await bad.finish();
      const good = await writer.beginImport({ kind: 'dpkg-local', name: 'dpkg', host: 'srv1' });
      await good.add([{ digest: sha('new ls'), path: Buffer.from('/usr/bin/ls'), package: pkg }]);
      await good.finish();
      await writer.close();
      await new Promise((resolve) => setTimeout(resolve, FRESHNESS_MS));
      assert.equal((await reader.lookupBad(unknown))[0]?.label, 'dropper');
      const [seen] = await reader.lookupMany([{ path: Buffer.from('/usr/bin/ls'), hashes: { sha256: sha('new ls').toString('hex') } }]);
      assert.equal(seen?.atPath.length, 1);
      assert.deepEqual(await reader.lookupBad({ sha256: sha('still unknown').toString('hex') }), []);
      await reader.close();
    });

    it('two imports interleaved by two stores: a reader with filters sees both', async () => {
      await (await e.open('e', { bloom: true })).close();
      const slow = await e.open('e');
      const slowImport = await slow.beginImport({ kind: 'manual', name: 'slow' });
      await slowImport.add([{ digest: sha('slow'), path: Buffer.from('/slow') }]);
      const quick = await e.open('e');
      const quickImport = await quick.beginImport({ kind: 'manual', name: 'quick' });
      await quickImport.add([{ digest: sha('quick'), path: Buffer.from('/quick') }]);
      await quickImport.finish();
      await quick.close();
      await slowImport.finish();
      await slow.close();
      const reader = await e.open('e', { bloom: true });
      for (const name of ['slow', 'quick']) {
        assert.equal((await reader.lookup(Buffer.from(`/${name}`), { sha256: sha(name).toString('hex') })).atPath.length, 1, name);
      }
      await reader.close();
    });

    it('keeps one declaration per path, package and source, with the observed flag', async () => {
      const store = await e.open('modes');
      const declared = { mode: 0o755, uid: 0, gid: 0, owner: 'root', group: 'root' };
      const session = await store.beginImport({ kind: 'dpkg-local', name: 'dpkg /', host: 'h' });
      const observed = { mode: 0o4755, uid: 0, gid: 0, observed: true };
      await session.add([
        { digest: createHash('md5').update('su').digest(), path: Buffer.from('/usr/bin/su'), package: pkg, declared: observed },
        { digest: sha('new'), path: Buffer.from('/usr/bin/new'), package: pkg, declared },
      ]);
      await session.finish();
      const found = await store.lookupMany([
        { path: Buffer.from('/usr/bin/su'), hashes: { md5: createHash('md5').update('su').digest('hex') } },
        { path: Buffer.from('/usr/bin/new'), hashes: { sha256: sha('new').toString('hex') } },
      ]);
      assert.deepEqual(found[0]?.atPath[0]?.declared, observed);
      assert.deepEqual(found[1]?.atPath[0]?.declared, declared);
      await store.close();
    });

    it('asks the usrmerge alias only where the root is merged', async () => {
      const store = await e.open('u');
      const session = await store.beginImport({ kind: 'deb-verified', name: 'd' });
      await session.add([{ digest: sha('x'), path: Buffer.from('/usr/bin/x'), package: pkg }]);
      await session.finish();
      const hashes = { sha256: sha('x').toString('hex') };
      const [merged, split] = await store.lookupMany([
        { path: Buffer.from('/bin/x'), hashes },
        { path: Buffer.from('/bin/x'), hashes, usrMerged: false },
      ]);
      assert.equal(merged?.atPath.length, 1);
      assert.deepEqual([split?.atPath.length, split?.elsewhere.map((x) => x.path?.toString())], [0, ['/usr/bin/x']]);
      await store.close();
    });

    it('keeps path bytes exactly, and the .deb verdicts and per-source values', async () => {
      const store = await e.open('bytes');
      const odd = Buffer.from([0x2f, 0x74, 0xff, 0xfe, 0x0a, 0x78]); // "/t\xff\xfe\nx": not UTF-8
      const session = await store.beginImport({ kind: 'manual', name: 'm' });
      await session.add([{ digest: sha('odd'), path: odd }]);
      await session.finish();
      const [found] = await store.lookupMany([{ path: Buffer.from(odd), hashes: { sha256: sha('odd').toString('hex') } }]);
      assert.ok(found?.atPath[0]?.path?.equals(odd));
      const source = { kind: 'dpkg-local' as const, name: 'dpkg /', host: 'h1' };
      assert.equal(await store.sourceValue(source, 'libs'), undefined);
      await store.setSourceValue(source, 'libs', 'a b');
      assert.equal(await store.sourceValue(source, 'libs'), 'a b');
      assert.equal(await store.debVerdict('ab'.repeat(32)), undefined);
      await store.recordDeb('ab'.repeat(32), { verdict: 'refused', package: 'x 1 all', reason: 'not in the signed indexes' });
      assert.deepEqual(await store.debVerdict('ab'.repeat(32)), { verdict: 'refused', package: 'x 1 all', reason: 'not in the signed indexes' });
      assert.deepEqual((await store.stats()).debs, { verified: 0, refused: 1 });
      await store.close();
    });
  });
}
