import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { BloomFilter } from './bloom-filter.js';
import { KNOWN_HASHES_APPLICATION_ID } from '../storage/sqlite/application-id.js';
import { KNOWN_HASH_DATABASE } from './known-hash-database.js';
import { SqliteKnownHashStore } from './sqlite-known-hash-store.js';

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const pkg = { name: 'coreutils', version: '9.1-1', arch: 'amd64' };

describe('SqliteKnownHashStore', () => {
  const dir = tempDir();

  it('answers by path (and usrmerge alias), elsewhere and bad, the same with and without Bloom filters', async () => {
    const file = join(dir, 'a.sqlite');
    const store = SqliteKnownHashStore.open(file);
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
      const s = SqliteKnownHashStore.open(file, { bloom });
      const hex = (b: Buffer): { sha256: string } => ({ sha256: b.toString('hex') });
      const atAlias = await s.lookup(Buffer.from('/usr/bin/ls'), hex(sha('ls')));
      assert.equal(atAlias.atPath.length, 1, 'dpkg and .debs say /bin/ls; the scanner sees /usr/bin/ls');
      assert.equal(atAlias.atPath[0]?.package?.name, 'coreutils');
      const misplaced = await s.lookup(Buffer.from('/usr/bin/ls'), hex(sha('dir')));
      assert.deepEqual([misplaced.atPath.length, misplaced.elsewhere.map((e) => e.path?.toString())], [0, ['/usr/bin/dir']]);
      const evil = await s.lookup(Buffer.from('/tmp/x'), hex(sha('evil')));
      assert.deepEqual(
        evil.bad.map((e) => e.label),
        ['Mirai'],
      );
      const unknown = await s.lookup(Buffer.from('/tmp/x'), hex(sha('nothing')));
      assert.deepEqual([unknown.atPath, unknown.elsewhere, unknown.bad], [[], [], []]);
      await s.close();
    }
  });

  it('answers a batch of lookups exactly as one lookup each, bad-only queries from the bad lists alone', async () => {
    const file = join(dir, 'many.sqlite');
    const store = SqliteKnownHashStore.open(file);
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
      const s = SqliteKnownHashStore.open(file, { bloom });
      const one = await Promise.all(
        queries.map(async (q) => (q.badOnly === true ? { atPath: [], elsewhere: [], bad: await s.lookupBad(q.hashes) } : s.lookup(q.path, q.hashes))),
      );
      const many = await s.lookupMany(queries);
      assert.deepEqual(many, one);
      assert.equal(many[0]?.atPath[0]?.package?.name, 'coreutils', 'found at its usrmerge alias');
      assert.equal(many[1]?.atPath[0]?.algorithm, 'md5', 'only the MD5 is known for cat');
      assert.deepEqual([many[2]?.atPath, many[4]?.bad.map((e) => e.label)], [[], ['Mirai']]);
      await s.close();
    }
  });

  it('finds the path of a digest known at many places (the empty file)', async () => {
    const store = SqliteKnownHashStore.open(join(dir, 'b.sqlite'));
    const session = await store.beginImport({ kind: 'manual', name: 'm' });
    await session.add(Array.from({ length: 200 }, (_, i) => ({ digest: sha(''), path: Buffer.from(`/usr/share/empty/${i}`) })));
    await session.finish();
    const r = await store.lookup(Buffer.from('/usr/share/empty/150'), { sha256: sha('').toString('hex') });
    assert.equal(r.atPath.length, 1);
    assert.equal(r.elsewhere.length, 8);
    await store.close();
  });

  it('rebuilds a stale Bloom filter after an import by another process', async () => {
    const file = join(dir, 'c.sqlite');
    const first = SqliteKnownHashStore.open(file, { bloom: true });
    await first.close();
    const writer = SqliteKnownHashStore.open(file);
    const session = await writer.beginImport({ kind: 'manual', name: 'm' });
    await session.add([{ digest: sha('late'), path: Buffer.from('/late') }]);
    await session.finish();
    await writer.close();
    const reader = SqliteKnownHashStore.open(file, { bloom: true });
    assert.equal((await reader.lookup(Buffer.from('/late'), { sha256: sha('late').toString('hex') })).atPath.length, 1);
    await reader.close();
  });
  it('a long-running reader with Bloom filters sees what another process imports while it runs, known-bad first', async () => {
    const file = join(dir, 'd.sqlite');
    const reader = SqliteKnownHashStore.open(file, { bloom: true });
    const unknown = { sha256: sha('dropper').toString('hex') };
    assert.deepEqual(await reader.lookupBad(unknown), []);
    const stampBefore = statSync(`${file}.bloom`).mtimeMs;

    // `custos hashdb import --bad` and an apt hook import, each its own process (connection) without filters.
    const writer = SqliteKnownHashStore.open(file);
    const bad = await writer.beginImport({ kind: 'manual', name: 'feed' });
    await bad.add([{ digest: sha('dropper'), bad: true, label: 'dropper' }]);
    await bad.finish();
    const good = await writer.beginImport({ kind: 'dpkg-local', name: 'dpkg', host: 'srv1' });
    await good.add([{ digest: sha('new ls'), path: Buffer.from('/usr/bin/ls'), package: pkg }]);
    await good.finish();
    await writer.close();

    // Within 50 ms of the import (the filter in memory has not seen these digests, the database has).
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal((await reader.lookupBad(unknown))[0]?.label, 'dropper');
    assert.equal((await reader.lookup(Buffer.from('/usr/bin/ls'), { sha256: sha('new ls').toString('hex') })).atPath.length, 1);
    // The importer kept the saved filters current, so the reader can take them up again without a rebuild.
    assert.ok(statSync(`${file}.bloom`).mtimeMs > stampBefore, 'the importer rewrote the saved filter');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await reader.lookupBad(unknown)).length, 1);
    assert.deepEqual(await reader.lookupBad({ sha256: sha('still unknown').toString('hex') }), []);
    assert.equal((await reader.lookup(Buffer.from('/usr/bin/ls'), { sha256: sha('new ls').toString('hex') })).atPath.length, 1);
    await reader.close();
  });
  it('never saves filters that missed the rows of an import finished by another process in between', async () => {
    const file = join(dir, 'e.sqlite');
    await SqliteKnownHashStore.open(file, { bloom: true }).close();
    const slow = SqliteKnownHashStore.open(file);
    const slowImport = await slow.beginImport({ kind: 'manual', name: 'slow' });
    await slowImport.add([{ digest: sha('slow'), path: Buffer.from('/slow') }]);
    const quick = SqliteKnownHashStore.open(file);
    const quickImport = await quick.beginImport({ kind: 'manual', name: 'quick' });
    await quickImport.add([{ digest: sha('quick'), path: Buffer.from('/quick') }]);
    await quickImport.finish();
    await quick.close();
    await slowImport.finish();
    await slow.close();
    const reader = SqliteKnownHashStore.open(file, { bloom: true });
    for (const name of ['slow', 'quick']) {
      assert.equal((await reader.lookup(Buffer.from(`/${name}`), { sha256: sha(name).toString('hex') })).atPath.length, 1, name);
    }
    await reader.close();
  });
});

describe('BloomFilter', () => {
  it('never forgets a key and keeps false positives near 1% at 10 bits per key', () => {
    const bloom = BloomFilter.forCapacity(20_000);
    for (let i = 0; i < 20_000; i++) bloom.add(sha(`in ${i}`));
    for (let i = 0; i < 20_000; i++) assert.ok(bloom.has(sha(`in ${i}`)));
    let falsePositives = 0;
    for (let i = 0; i < 20_000; i++) if (bloom.has(sha(`out ${i}`))) falsePositives++;
    assert.ok(falsePositives < 20_000 * 0.02, `${falsePositives} false positives`);
    const copy = BloomFilter.deserialize(bloom.serialize(7), 7);
    assert.ok(copy?.has(sha('in 5')));
    assert.equal(BloomFilter.deserialize(bloom.serialize(7), 8), undefined, 'a filter of another generation is stale');
  });
});

describe('SqliteKnownHashStore: a database from before versioned migrations', () => {
  it('is adopted as it is (user_version 0): its hashes answer, and it is versioned from then on', async () => {
    const file = join(tempDir(), 'old.sqlite');
    // What the known-hash store created before versioned migrations: its one schema, application id set, version 0.
    const old = new Database(file);
    old.pragma(`application_id = ${KNOWN_HASHES_APPLICATION_ID}`);
    old.exec(KNOWN_HASH_DATABASE.migrations[0] as string);
    old.prepare("INSERT INTO sources (id, kind, name, imported_at, rows) VALUES (1, 'manual', 'feed', '2026-11-27T10:00:00Z', 1)").run();
    old.prepare('INSERT INTO bad (digest, source_id, label) VALUES (?, 1, ?)').run(createHash('sha256').update('evil').digest(), 'Mirai');
    assert.equal(old.pragma('user_version', { simple: true }), 0);
    old.close();

    const store = SqliteKnownHashStore.open(file);
    const evil = await store.lookup(Buffer.from('/tmp/x'), { sha256: createHash('sha256').update('evil').digest('hex') });
    assert.deepEqual(
      evil.bad.map((e) => e.label),
      ['Mirai'],
    );
    await store.close();
    const raw = new Database(file);
    assert.equal(raw.pragma('user_version', { simple: true }), KNOWN_HASH_DATABASE.migrations.length);
    raw.close();
  });
});

describe('SqliteKnownHashStore: declared modes (schema version 2)', () => {
  const declared = { mode: 0o755, uid: 0, gid: 0, owner: 'root', group: 'root' };

  it('upgrades a version-1 database: its rows answer without a declaration, new imports carry one', async () => {
    const file = join(tempDir(), 'v1.sqlite');
    const v1 = new Database(file);
    v1.pragma(`application_id = ${KNOWN_HASHES_APPLICATION_ID}`);
    v1.exec(KNOWN_HASH_DATABASE.migrations[0] as string);
    v1.pragma('user_version = 1');
    v1.prepare("INSERT INTO sources (id, kind, name, imported_at, rows) VALUES (1, 'deb-verified', 'old', '2026-11-27T10:00:00Z', 1)").run();
    v1.prepare("INSERT INTO paths (id, path) VALUES (1, CAST('/usr/bin/old' AS BLOB))").run();
    v1.prepare("INSERT INTO packages (id, name, version, arch) VALUES (1, 'old', '1', 'all')").run();
    v1.prepare('INSERT INTO known (digest, path_id, package_id, source_id) VALUES (?, 1, 1, 1)').run(sha('old'));
    v1.close();

    const store = SqliteKnownHashStore.open(file);
    const old = await store.lookup(Buffer.from('/usr/bin/old'), { sha256: sha('old').toString('hex') });
    assert.equal(old.atPath.length, 1);
    assert.equal(old.atPath[0]?.declared, undefined);
    const session = await store.beginImport({ kind: 'deb-verified', name: 'new' });
    await session.add([{ digest: sha('new'), path: Buffer.from('/usr/bin/new'), package: pkg, declared }]);
    await session.finish();
    const found = await store.lookup(Buffer.from('/usr/bin/new'), { sha256: sha('new').toString('hex') });
    assert.deepEqual(found.atPath[0]?.declared, declared);
    await store.close();
    const raw = new Database(file);
    assert.equal(raw.pragma('user_version', { simple: true }), 2);
    raw.close();
  });

  it('keeps one declaration per path, package and source, with the observed flag', async () => {
    const store = SqliteKnownHashStore.open(join(tempDir(), 'd.sqlite'));
    const session = await store.beginImport({ kind: 'dpkg-local', name: 'dpkg /', host: 'h' });
    const observed = { mode: 0o4755, uid: 0, gid: 0, observed: true };
    await session.add([{ digest: createHash('md5').update('su').digest(), path: Buffer.from('/usr/bin/su'), package: pkg, declared: observed }]);
    await session.finish();
    const found = await store.lookupMany([{ path: Buffer.from('/usr/bin/su'), hashes: { md5: createHash('md5').update('su').digest('hex') } }]);
    assert.deepEqual(found[0]?.atPath[0]?.declared, observed);
    await store.close();
  });

  it('asks the usrmerge alias only where the root is merged', async () => {
    const store = SqliteKnownHashStore.open(join(tempDir(), 'u.sqlite'));
    const session = await store.beginImport({ kind: 'deb-verified', name: 'd' });
    await session.add([{ digest: sha('x'), path: Buffer.from('/usr/bin/x'), package: pkg }]);
    await session.finish();
    const hashes = { sha256: sha('x').toString('hex') };
    const [merged, split] = await store.lookupMany([
      { path: Buffer.from('/bin/x'), hashes },
      { path: Buffer.from('/bin/x'), hashes, usrMerged: false },
    ]);
    assert.equal(merged?.atPath.length, 1);
    assert.deepEqual([split?.atPath.length, split?.elsewhere.map((e) => e.path?.toString())], [0, ['/usr/bin/x']]);
    await store.close();
  });
});
