import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { dropSchemas, schemaUrl, testSchemaName } from '../support/postgres-test-url.js';
import { CUSTOS_BIN } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';
import { consoleStorageOf } from '../../src/manager/console/console-storage.js';
import { verifyPassword } from '../../src/manager/console/password-hash.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';

const custos = (args: readonly string[], input = ''): string => execFileSync(process.execPath, [CUSTOS_BIN, ...args], { input, encoding: 'utf8' });

describe('custos manager user', () => {
  const schemas: string[] = [];
  after(() => dropSchemas(schemas));

  it('keeps console accounts in the SQLite store of the data directory', () => {
    const data = tempDir('custos-user-sqlite-');
    assert.match(custos(['manager', 'user', 'add', 'ann', '--role', 'admin', '--data', data], 'ann-password-1\n'), /created console user ann \(admin\)/);
    assert.match(custos(['manager', 'user', 'add', 'ann', '--role', 'viewer', '--data', data], 'ann-password-2\n'), /updated console user ann \(viewer\)/);
    assert.equal(custos(['manager', 'user', 'list', '--data', data]), 'ann viewer\n');
  });

  it('keeps them in the PostgreSQL store named with --store, where the console reads them', async () => {
    const schema = testSchemaName('custos_user');
    schemas.push(schema);
    const data = tempDir('custos-user-pg-');
    assert.match(
      custos(['manager', 'user', 'add', 'bob', '--role', 'admin', '--data', data, '--store', schemaUrl(schema)], 'bob-password-1\n'),
      /created console user bob \(admin\)/,
    );
    assert.equal(custos(['manager', 'user', 'list', '--data', data, '--store', schemaUrl(schema)]), 'bob admin\n');
    const store = await PostgresStore.open(schemaUrl(schema));
    try {
      const user = await consoleStorageOf(store)?.repository.getUser('bob');
      assert.equal(user?.role, 'admin');
      assert.equal(await verifyPassword('bob-password-1', user?.passwordHash ?? ''), true);
      assert.equal(await verifyPassword('wrong', user?.passwordHash ?? ''), false);
    } finally {
      await store.close();
    }
  });
});
