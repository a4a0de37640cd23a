import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { describeHostPackagesContract } from '../../../test/support/host-packages-contract.js';
import { describeKnownHashStoreContract, type KnownHashEngine } from '../../../test/support/known-hash-store-contract.js';
import { dropSchemas, schemaUrl, testSchemaName } from '../../../test/support/postgres-test-url.js';
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

  it('a manager with filters sees another manager’s import within 50 ms, and its filters are rebuilt', async () => {
    const reader = (await e.open('fresh', { bloom: true })) as PostgresKnownHashStore;
    const writer = await e.open('fresh');
    const hashes = { sha256: sha('fresh').toString('hex') };
    assert.deepEqual((await reader.lookupMany([{ path: Buffer.from('/usr/bin/fresh'), hashes }]))[0]?.atPath, []);
    const session = await writer.beginImport({ kind: 'deb-verified', name: 'bookworm' });
    await session.add([{ digest: sha('fresh'), path: Buffer.from('/usr/bin/fresh'), package: { name: 'fresh', version: '1', arch: 'all' } }]);
    await session.finish();
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal((await reader.lookupMany([{ path: Buffer.from('/usr/bin/fresh'), hashes }]))[0]?.atPath[0]?.package?.name, 'fresh');
    // Its filters were rebuilt from the new generation: once they are, a miss is still a miss and the hit still a hit.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await reader.lookup(Buffer.from('/usr/bin/fresh'), hashes)).atPath.length, 1);
    assert.deepEqual((await reader.lookup(Buffer.from('/usr/bin/fresh'), { sha256: sha('other').toString('hex') })).atPath, []);
    await writer.close();
    await reader.close();
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
