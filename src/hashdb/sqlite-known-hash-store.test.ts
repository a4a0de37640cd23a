import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { BloomFiles } from './bloom-files.js';
import { BloomFilter } from './bloom-filter.js';
import { KNOWN_HASHES_APPLICATION_ID } from '../storage/sqlite/application-id.js';
import { KNOWN_HASH_DATABASE } from './known-hash-database.js';
import { describeKnownHashStoreContract } from '../../test/support/known-hash-store-contract.js';
import { SqliteKnownHashStore } from './sqlite-known-hash-store.js';

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
const pkg = { name: 'coreutils', version: '9.1-1', arch: 'amd64' };

const dir = tempDir();

describeKnownHashStoreContract('sqlite', {
  async open(name, options = {}) {
    return SqliteKnownHashStore.open(join(dir, `${name}.sqlite`), options);
  },
});

describe('SqliteKnownHashStore: its Bloom filter files', () => {
  it('a long-running reader takes up what another process imported, from its log, without a rebuild', async () => {
    const file = join(dir, 'files.sqlite');
    const reader = SqliteKnownHashStore.open(file, { bloom: true });
    const base = readFileSync(`${file}.bloom`);
    const logBefore = statSync(`${file}.bloom.log`).size;
    const writer = SqliteKnownHashStore.open(file);
    const bad = await writer.beginImport({ kind: 'manual', name: 'feed' });
    await bad.add([{ digest: sha('dropper'), bad: true, label: 'dropper' }]);
    await bad.finish();
    await writer.close();
    // The importer kept the saved filters current by appending its digest to the log, so the reader can take it
    // in without a rebuild; the filter files themselves were not written again.
    assert.ok(readFileSync(`${file}.bloom`).equals(base), 'the base filter was not rewritten');
    assert.ok(statSync(`${file}.bloom.log`).size > logBefore, 'the import was logged');
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal((await reader.lookupBad({ sha256: sha('dropper').toString('hex') })).length, 1);
    assert.deepEqual(await reader.lookupBad({ sha256: sha('still unknown').toString('hex') }), []);
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
});

describe('SqliteKnownHashStore: files planted beside the database', () => {
  it('never writes through a symlink planted where a filter, index or log file goes, and still answers from SQLite', async () => {
    const file = join(dir, 'planted.sqlite');
    const first = SqliteKnownHashStore.open(file, { bloom: true });
    await first.close();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'root-owned file\n');
    for (const name of ['.bloom.log', '.digests.log', '.bloom.tmp', '.bad.bloom.tmp', '.digests.tmp', '.bloom.log.tmp', '.digests.log.tmp']) {
      rmSync(`${file}${name}`, { force: true });
      symlinkSync(victim, `${file}${name}`);
    }
    const store = SqliteKnownHashStore.open(file, { bloom: true });
    try {
      const session = await store.beginImport({ kind: 'manual', name: 'feed' });
      await session.add([{ digest: sha('dropper'), bad: true, label: 'dropper' }]);
      await session.finish().catch(() => undefined);
      // Whatever the store could not save, the database still knows the digest is bad.
      const evidence = await store.lookupBad({ sha256: sha('dropper').toString('hex') });
      assert.equal(evidence.length, 1);
    } finally {
      await store.close();
    }
    assert.equal(readFileSync(victim, 'utf8'), 'root-owned file\n', 'nothing was written through the planted links');
  });
});

describe('SqliteKnownHashStore: when the filters and the index are built', () => {
  /** A database of hash-only rows, and a digest that is answered only from the index once a row is deleted behind the store. */
  async function filled(file: string): Promise<Buffer[]> {
    const store = SqliteKnownHashStore.open(file);
    const session = await store.beginImport({ kind: 'nsrl', name: 'NSRL' }, { bulk: true });
    const digests = Array.from({ length: 2000 }, (_, i) => sha(`row ${i}`));
    await session.add(digests.map((digest) => ({ digest })));
    await session.finish();
    const bad = await store.beginImport({ kind: 'manual', name: 'feed' });
    await bad.add([{ digest: sha('dropper'), bad: true, label: 'dropper' }]);
    await bad.finish();
    await store.close();
    return digests;
  }

  /** Deletes a row without moving the generation: only a store that answers from the index still finds it. */
  function deleteBehind(file: string, digest: Buffer): void {
    const raw = new Database(file);
    raw.prepare('DELETE FROM known WHERE digest = ?').run(digest);
    raw.close();
  }

  it('in the background: the store answers from SQLite at once, and takes up the filters and index the thread saved', async () => {
    const file = join(tempDir(), 'background.sqlite');
    const digests = await filled(file);
    const store = SqliteKnownHashStore.open(file, { bloom: true, build: 'background' });
    // Answers at once, before anything is built.
    assert.equal((await store.lookupBad({ sha256: sha('dropper').toString('hex') })).length, 1);
    await store.backgroundBuild();
    assert.ok(statSync(`${file}.bloom`).size > 0 && statSync(`${file}.digests`).size > 0, 'the thread saved both');
    deleteBehind(file, digests[3] as Buffer);
    const found = await store.lookup(Buffer.from('/x'), { sha256: (digests[3] as Buffer).toString('hex') });
    assert.equal(found.elsewhere.length, 1, 'answered from the index the thread built');
    assert.equal((await store.lookupBad({ sha256: sha('dropper').toString('hex') })).length, 1);
    assert.deepEqual(await store.lookupBad({ sha256: sha('unknown').toString('hex') }), []);
    await store.close();
  });

  it('in the background, with imports going on meanwhile: what the thread saves is current when it ends, every import in it', async () => {
    const file = join(tempDir(), 'busy.sqlite');
    const digests = await filled(file);
    const store = SqliteKnownHashStore.open(file, { bloom: true, build: 'background' });
    // Imports while the thread builds: whether each lands before its snapshot or in the log it started, the saved
    // files must describe the database's generation when the build ends.
    const during: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const session = await store.beginImport({ kind: 'manual', name: `during ${i}` });
      const rows = [{ digest: sha(`during ${i}`) }, { digest: sha(`bad during ${i}`), bad: true, label: 'bad' }];
      await session.add(rows);
      await session.finish();
      during.push(sha(`during ${i}`));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await store.backgroundBuild();
    const raw = new Database(file, { readonly: true });
    const generation = Number(raw.prepare("SELECT value FROM meta WHERE key = 'generation'").pluck().get());
    raw.close();
    const saved = new BloomFiles(file).read(generation);
    assert.ok(saved !== undefined, 'the saved filters, with their log, are at the database generation');
    for (let i = 0; i < 5; i++) assert.ok(saved.bad.has(sha(`bad during ${i}`)) && saved.known.has(sha(`during ${i}`)), `import ${i} is in the saved filters`);
    const reader = SqliteKnownHashStore.open(file, { bloom: true, build: 'never' });
    for (const d of [...during, digests[0] as Buffer])
      assert.equal((await reader.lookup(Buffer.from('/x'), { sha256: d.toString('hex') })).elsewhere.length, 1);
    for (let i = 0; i < 5; i++) assert.equal((await reader.lookupBad({ sha256: sha(`bad during ${i}`).toString('hex') })).length, 1);
    await reader.close();
    await store.close();
  });

  it('never (a one-shot check): nothing is built; saved ones are taken up after keepAfter lookups only', async () => {
    const file = join(tempDir(), 'never.sqlite');
    const digests = await filled(file);
    const none = SqliteKnownHashStore.open(file, { bloom: true, build: 'never' });
    assert.equal((await none.lookup(Buffer.from('/x'), { sha256: (digests[1] as Buffer).toString('hex') })).elsewhere.length, 1);
    await none.close();
    assert.equal(statSync(`${file}.bloom`, { throwIfNoEntry: false }), undefined, 'nothing built');
    await SqliteKnownHashStore.open(file, { bloom: true }).close(); // someone who keeps them builds and saves them
    deleteBehind(file, digests[5] as Buffer);
    const lazy = SqliteKnownHashStore.open(file, { bloom: true, build: 'never', keepAfter: 3 });
    const ask = async (): Promise<number> => (await lazy.lookup(Buffer.from('/x'), { sha256: (digests[5] as Buffer).toString('hex') })).elsewhere.length;
    assert.equal(await ask(), 0, 'first lookup: SQLite (the row is gone from the table)');
    assert.equal(await ask(), 0, 'second lookup: SQLite');
    assert.equal(await ask(), 1, 'third lookup: the saved index, taken up');
    await lazy.close();
  });
});
