import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { describeHostPackagesContract } from '../../../test/support/host-packages-contract.js';
import { describeKnownHashStoreContract, type KnownHashEngine } from '../../../test/support/known-hash-store-contract.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../../../test/support/postgres-test-url.js';
import { PostgresBloomCache } from './postgres-bloom-cache.js';
import { PostgresKnownHashStore } from './postgres-known-hash-store.js';
import { LookupNames } from './postgres-lookup-names.js';

const schemas = new Map<string, string>();
after(() => dropSchemas([...schemas.values()]));

/** One schema per database name: opening a name twice is two stores (two managers) on one database. */
function engine(prefix: string): KnownHashEngine {
  return {
    async open(name, options = {}) {
      const key = `${prefix}/${name}`;
      let schema = schemas.get(key);
      if (schema === undefined) schemas.set(key, (schema = testSchemaName('custos_kh')));
      const store = await PostgresKnownHashStore.open(schemaUrl(schema), options);
      if (options.bloom === true) await store.bloomReady();
      return store;
    },
  };
}

describeKnownHashStoreContract('postgres', engine('store'));
describeHostPackagesContract('postgres', engine('hosts'));

const sha = (s: string): Buffer => createHash('sha256').update(s).digest();

/** Waits (up to 5 s) until the cache drops its filters; whether it did. */
async function untilDropped(cache: PostgresBloomCache): Promise<boolean> {
  for (let i = 0; i < 250; i++) {
    if ((await cache.forLookups()) === undefined) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

describe('PostgresKnownHashStore', () => {
  const e = engine('own');

  it('a manager with filters sees another manager’s import within 50 ms', async () => {
    const reader = (await e.open('fresh', { bloom: true })) as PostgresKnownHashStore;
    const writer = await e.open('fresh');
    const hashes = { sha256: sha('fresh').toString('hex') };
    assert.deepEqual((await reader.lookupMany([{ path: Buffer.from('/usr/bin/fresh'), hashes }]))[0]?.atPath, []);
    const session = await writer.beginImport({ kind: 'deb-verified', name: 'bookworm' });
    await session.add([{ digest: sha('fresh'), path: Buffer.from('/usr/bin/fresh'), package: { name: 'fresh', version: '1', arch: 'all' } }]);
    await session.finish();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal((await reader.lookupMany([{ path: Buffer.from('/usr/bin/fresh'), hashes }]))[0]?.atPath[0]?.package?.name, 'fresh');
    assert.equal((await reader.lookup(Buffer.from('/usr/bin/fresh'), hashes)).atPath.length, 1);
    assert.deepEqual((await reader.lookup(Buffer.from('/usr/bin/fresh'), { sha256: sha('other').toString('hex') })).atPath, []);
    await writer.close();
    await reader.close();
  });

  it('drops stale filters when an import is notified, and rebuilds them, not more often than every 10 s, with the new rows', async () => {
    const store = (await e.open('cache')) as PostgresKnownHashStore;
    // The clock stands still: only the import's notification can tell the cache its filters went stale.
    let now = 0;
    const cache = new PostgresBloomCache(store.database, () => now);
    await cache.keep();
    assert.equal(cache.listening, true);
    assert.equal((await cache.forLookups())?.generation, 0);
    const session = await store.beginImport({ kind: 'manual', name: 'feed' });
    await session.add([{ digest: sha('late'), bad: true, label: 'late' }]);
    await session.finish();
    assert.equal(await untilDropped(cache), true, 'stale: lookups ask the database');
    now += 1_000;
    assert.equal(await cache.forLookups(), undefined, 'no rebuild within 10 s of the last');
    now += 10_000;
    let rebuilt = await cache.forLookups();
    for (let i = 0; rebuilt === undefined && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      rebuilt = await cache.forLookups();
    }
    assert.equal(rebuilt?.generation, 1);
    assert.ok(rebuilt?.bad.has(sha('late')));
    assert.equal(rebuilt?.bad.has(sha('never imported')), false);
    await cache.close();
    await store.close();
  });

  it('listens again after losing its connection, and reads the generation meanwhile', async () => {
    const store = (await e.open('relisten')) as PostgresKnownHashStore;
    // The clock stands still: what makes the cache read the generation is the lost connection, then a notification.
    const cache = new PostgresBloomCache(store.database, () => 0);
    await cache.keep();
    assert.equal(cache.listening, true);
    assert.equal((await cache.forLookups())?.generation, 0);
    // What a restarted PostgreSQL or a dropped connection does to the listening session.
    await store.database.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN custos_kh_generation' AND pid <> pg_backend_pid()",
    );
    for (let i = 0; cache.listening && i < 100; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(cache.listening, false);
    // Not listening: the next lookup reads the generation (unchanged here), whatever the clock says.
    assert.equal((await cache.forLookups())?.generation, 0);
    for (let i = 0; !cache.listening && i < 250; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(cache.listening, true, 'listening again');
    // Listening again, it reads the generation once (imports may have been missed meanwhile), then trusts the filters.
    assert.equal((await cache.forLookups())?.generation, 0);
    const session = await store.beginImport({ kind: 'manual', name: 'feed' });
    await session.add([{ digest: sha('after'), bad: true, label: 'after' }]);
    await session.finish();
    assert.equal(await untilDropped(cache), true, 'an import after the new LISTEN is heard of');
    await cache.close();
    await store.close();
  });

  it('names packages for a whole lookup even when its memory of them starts again in the middle', async () => {
    const store = (await e.open('names')) as PostgresKnownHashStore;
    const session = await store.beginImport({ kind: 'deb-verified', name: 'bookworm' });
    const pkgs = ['a', 'b', 'c'].map((name) => ({ name, version: '1', arch: 'all' }));
    await session.add(pkgs.map((p) => ({ digest: sha(p.name), path: Buffer.from(`/usr/bin/${p.name}`), package: p })));
    await session.finish();
    const ids = (await store.database.query<{ id: number; name: string }>('SELECT id::float8 AS id, name FROM kh_packages ORDER BY name')).rows;
    const source = (await store.database.query<{ id: number }>('SELECT id::float8 AS id FROM kh_sources')).rows[0]?.id as number;
    // Room for two: the third id makes the memory start again, and a second load for the same call (the rows at
    // a path asked afterwards) adds to what the call already holds.
    const names = new LookupNames(2);
    const first = await names.load(store.database, [source], [ids[0]?.id as number, ids[1]?.id as number]);
    await names.load(store.database, [source], [ids[2]?.id as number], first);
    assert.deepEqual(
      ids.map((r) => first.package(r.id)?.name),
      ['a', 'b', 'c'],
    );
    assert.equal(first.source(source)?.name, 'bookworm');
    assert.equal(first.package(0), undefined);
    // A lookup through the store names every package too.
    const found = await store.lookupMany(pkgs.map((p) => ({ path: Buffer.from(`/usr/bin/${p.name}`), hashes: { sha256: sha(p.name).toString('hex') } })));
    assert.deepEqual(
      found.map((f) => f.atPath[0]?.package?.name),
      ['a', 'b', 'c'],
    );
    await store.close();
  });

  it('shares a schema with the manager store without touching its tables, and refuses to read where there is none', async () => {
    const schema = testSchemaName('custos_kh');
    schemas.set('shared', schema);
    await assert.rejects(PostgresKnownHashStore.open(schemaUrl(schema), { mustExist: true }), /no Custos known-hash database/);
    const { PostgresStore } = await import('../../storage/postgres/postgres-store.js');
    const store = await PostgresStore.open(schemaUrl(schema));
    const hashes = await PostgresKnownHashStore.open(schemaUrl(schema));
    const again = await PostgresKnownHashStore.open(schemaUrl(schema), { mustExist: true });
    assert.equal((await again.stats()).knownRows, 0);
    await again.close();
    await hashes.close();
    await store.close();
  });
});
