import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { describeHostPackagesContract } from '../../../test/support/host-packages-contract.js';
import { describeKnownHashStoreContract, type KnownHashEngine } from '../../../test/support/known-hash-store-contract.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../../../test/support/postgres-test-url.js';
import { PostgresBloomCache } from './postgres-bloom-cache.js';
import { PostgresKnownHashStore } from './postgres-known-hash-store.js';

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

  it('drops stale filters at once and rebuilds them, not more often than every 10 s, with the new rows', async () => {
    const store = (await e.open('cache')) as PostgresKnownHashStore;
    let now = 0;
    const cache = new PostgresBloomCache(store.database, () => now);
    await cache.keep();
    assert.equal((await cache.forLookups())?.generation, 0);
    const session = await store.beginImport({ kind: 'manual', name: 'feed' });
    await session.add([{ digest: sha('late'), bad: true, label: 'late' }]);
    await session.finish();
    now += 60;
    assert.equal(await cache.forLookups(), undefined, 'stale: lookups ask the database');
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
