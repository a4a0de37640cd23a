import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePostgresUrl, redactPostgresUrl } from './postgres-database.js';

describe('PostgreSQL store URLs', () => {
  it("takes Custos's schema parameter off the URL the driver gets", () => {
    assert.deepEqual(parsePostgresUrl('postgres://u@db:5432/custos?schema=fleet_a&sslmode=require'), {
      url: 'postgres://u@db:5432/custos?sslmode=require',
      schema: 'fleet_a',
    });
    assert.equal(parsePostgresUrl('postgresql://u@db/custos').schema, 'public');
  });

  const refused: [string, string, RegExp][] = [
    ['a schema that is not a plain identifier', 'postgres://u@db/c?schema=x;drop', /lowercase identifier/],
    ['another scheme', 'mysql://u:pw@db/c', /not a postgres:\/\/ URL/],
    ['no URL at all', 'pw=secret', /not a postgres:\/\/ URL/],
  ];
  for (const [what, url, message] of refused) {
    it(`refuses ${what} with a coded error that shows no password`, () => {
      assert.throws(
        () => parsePostgresUrl(url),
        (error: Error & { code?: string }) => error.code === 'CONFIG_INVALID' && message.test(error.message) && !/secret|:pw@/.test(error.message),
      );
    });
  }

  it('hides the password, in the authority and in parameters', () => {
    assert.equal(redactPostgresUrl('postgres://custos:s3cr%40t@db:5432/c?schema=x'), 'postgres://custos:***@db:5432/c?schema=x');
    assert.equal(redactPostgresUrl('postgres://db/c?password=s3cret'), 'postgres://db/c?password=***');
    assert.equal(redactPostgresUrl('postgres://custos@db/c'), 'postgres://custos@db/c');
  });
});
