import { after } from 'node:test';
import { dropSchemas, rawSql, schemaUrl, testSchemaName } from '../../../test/support/postgres-test-url.js';
import { describeHistoryRetentionContract } from '../../../test/support/history-retention-contract.js';
import { describeStoreContract } from '../../../test/support/store-contract.js';
import { PostgresStore } from './postgres-store.js';

const schemas: string[] = [];
after(() => dropSchemas(schemas));

describeStoreContract('postgres', {
  async open() {
    const schema = testSchemaName();
    schemas.push(schema);
    return PostgresStore.open(schemaUrl(schema));
  },
  async tamper(store, sql) {
    // What an attacker with the database's owner role does: switch the append-only triggers off, then edit.
    await rawSql((store as PostgresStore).database.schema, `ALTER TABLE events DISABLE TRIGGER USER; ${sql}`);
  },
});

describeHistoryRetentionContract('postgres', {
  async open() {
    const schema = testSchemaName();
    schemas.push(schema);
    return PostgresStore.open(schemaUrl(schema));
  },
  async tamper(store, sql) {
    await rawSql((store as PostgresStore).database.schema, sql);
  },
});
