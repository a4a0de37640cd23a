import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { loadConfig } from './load-config.js';

const dir = tempDir('custos-load-config-');
const postgresYaml = join(dir, 'postgres.yml');
writeFileSync(postgresYaml, 'database:\n  engine: postgres\n  url: postgres://custos@db/custos\n');
const emptyYaml = join(dir, 'empty.yml');
writeFileSync(emptyYaml, '');

describe('loadConfig: choosing the store', () => {
  it("--store names a PostgreSQL store, over the configuration's SQLite file", () => {
    assert.deepEqual(loadConfig({ config: emptyYaml, data: dir, store: 'postgres://m@db/x' }).config.storage, { engine: 'postgres', url: 'postgres://m@db/x' });
  });
  it('--data keeps a configuration on PostgreSQL (the directory holds the rest), and means DATA/custos.db otherwise', () => {
    assert.deepEqual(loadConfig({ config: postgresYaml, data: dir }).config.storage, { engine: 'postgres', url: 'postgres://custos@db/custos' });
    assert.deepEqual(loadConfig({ config: emptyYaml, data: dir }).config.storage, { engine: 'sqlite', path: join(dir, 'custos.db') });
  });
  const refused: [string, Parameters<typeof loadConfig>[0], RegExp][] = [
    ['--store with --db', { config: emptyYaml, db: join(dir, 'x.db'), store: 'postgres://db/x' }, /--store and --db/],
    ['--store that is not a postgres:// URL', { config: emptyYaml, store: '/var/lib/custos/custos.db' }, /postgres:\/\/ URL/],
    ['--db with a configuration on PostgreSQL', { config: postgresYaml, db: join(dir, 'x.db') }, /--db names a SQLite file/],
  ];
  for (const [what, options, message] of refused) {
    it(`refuses ${what} as a usage error`, () => {
      assert.throws(
        () => loadConfig(options),
        (error: Error & { code?: string }) => error.code === 'USAGE' && message.test(error.message),
      );
    });
  }
});
