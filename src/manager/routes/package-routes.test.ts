import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { managerUnderTest, type ManagerUnderTest } from '../../../test/support/manager-under-test.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import { SqliteKnownHashStore } from '../../hashdb/sqlite-known-hash-store.js';

describe('package routes without a known-hash database', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;
  before(async () => {
    m = await managerUnderTest(dir);
  });
  after(async () => m.close());

  it('GET and POST /v1/packages and POST /v1/debs answer a coded 404', async () => {
    const agent = await m.enrollAgent('web-1');
    for (const request of [
      { method: 'GET', url: '/v1/packages' },
      { method: 'POST', url: '/v1/packages', payload: { databaseStamp: 's', updated: [], removed: [] } },
      { method: 'POST', url: `/v1/debs/${'a'.repeat(64)}`, payload: Buffer.from('x'), headers: { 'content-type': 'application/octet-stream' } },
    ] as const) {
      const reply = await m.app.inject({ ...request, headers: { ...agent.headers, ...('headers' in request ? request.headers : {}) } });
      assert.equal(reply.statusCode, 404, `${request.method} ${request.url}`);
      assert.equal(reply.json<{ code: string }>().code, 'NOT_FOUND');
    }
  });
});

describe('package routes with a known-hash database', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;
  let knownHashes: SqliteKnownHashStore;
  before(async () => {
    knownHashes = SqliteKnownHashStore.open(join(dir, 'known-hashes.db'));
    m = await managerUnderTest(dir, { knownHashes });
  });
  after(async () => {
    await m.close();
    await knownHashes.close();
  });

  it('refuses a malformed package report with 400 MALFORMED_INPUT', async () => {
    const agent = await m.enrollAgent('web-1');
    const reply = await m.app.inject({
      method: 'POST',
      url: '/v1/packages',
      headers: agent.headers,
      payload: { databaseStamp: 's', updated: 'everything', removed: [] },
    });
    assert.equal(reply.statusCode, 400);
    assert.match(reply.json<{ error: string }>().error, /^malformed package report: updated: /);
    assert.equal(reply.json<{ code: string }>().code, 'MALFORMED_INPUT');
  });

  it('applies a report of removed packages and serves the host state it now holds', async () => {
    const agent = await m.enrollAgent('db-1');
    const before = await m.app.inject({ method: 'GET', url: '/v1/packages', headers: agent.headers });
    assert.equal(before.statusCode, 200, before.body);
    assert.deepEqual(before.json<{ packages: object }>().packages, {});
    const reply = await m.app.inject({
      method: 'POST',
      url: '/v1/packages',
      headers: agent.headers,
      payload: { databaseStamp: 'stamp-1', updated: [], removed: [] },
    });
    assert.equal(reply.statusCode, 200, reply.body);
    assert.deepEqual(reply.json(), { applied: 0, wantDebs: [] });
    const after = await m.app.inject({ method: 'GET', url: '/v1/packages', headers: agent.headers });
    assert.match(after.json<{ databaseStamp?: string }>().databaseStamp ?? '', /^stamp-1/);
  });
});
