import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { postgresBinaries, startPostgresPair, type PostgresPair } from '../support/postgres-standby.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

const bin = postgresBinaries();
const why =
  process.getuid?.() !== 0
    ? 'needs root: the test clusters run as the postgres user'
    : bin === undefined
      ? 'needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin)'
      : false;

/**
 * The reading commands on a real streaming hot standby: `events`, `alerts`, `verify` and `status` answer from the
 * replica exactly as from the primary, and write nothing there (a standby refuses every write).
 */
describe('reading a PostgreSQL store on a hot standby', { skip: why }, () => {
  let pair: PostgresPair;
  const dir = tempDir('custos-standby-');
  const watched = join(dir, 'watched');
  const onPrimary = join(dir, 'primary.yml');
  const onStandby = join(dir, 'standby.yml');
  const schema = 'custos_standby';

  before(async () => {
    pair = await startPostgresPair(bin as string);
    mkdirSync(watched);
    for (const name of ['a', 'b']) writeFileSync(join(watched, name), `${name} one\n`);
    const config = (url: string): string =>
      `syscheck:\n  directories:\n    - path: ${watched}\ndatabase:\n  engine: postgres\n  url: ${url}?schema=${schema}\nalerts:\n  json: ${dir}/alerts.json\n  log: ${dir}/alerts.log\n`;
    writeFileSync(onPrimary, config(pair.primaryUrl));
    writeFileSync(onStandby, config(pair.standbyUrl));
  });
  after(() => pair?.stop());

  it('lists the same events and alerts, verifies the chain and reports the status, from the standby', async () => {
    assert.equal((await runCustos(['check', '--config', onPrimary])).code, 0);
    writeFileSync(join(watched, 'a'), 'a two\n');
    writeFileSync(join(watched, 'c'), 'c new\n');
    const second = await runCustos(['check', '--config', onPrimary]);
    assert.equal(second.code, 1, second.stderr);
    await pair.caughtUp();

    for (const command of [
      ['events', '--json'],
      ['alerts', '--json'],
      ['events', '--limit', '1', '--json'],
      ['alerts', '--path', join(watched, 'c'), '--json'],
    ]) {
      const primary = await runCustos([...command, '--config', onPrimary]);
      const standby = await runCustos([...command, '--config', onStandby]);
      assert.equal(standby.code, 0, `${command.join(' ')} on the standby: ${standby.stderr}`);
      assert.equal(standby.stdout, primary.stdout, command.join(' '));
      assert.ok(primary.stdout.length > 0, `${command.join(' ')} found something`);
    }
    const alerts = jsonLines((await runCustos(['alerts', '--config', onStandby, '--json'])).stdout);
    assert.equal(alerts.length, 2, 'a modified and c added');

    const verify = await runCustos(['verify', '--config', onStandby]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /history intact/);

    const status = await runCustos(['status', '--config', onStandby, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as { database: string; store: { baselineEntries: number; storedAlerts: number; chainHead?: { length: number } } };
    assert.match(parsed.database, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres/);
    // The directory and its three files.
    assert.equal(parsed.store.baselineEntries, 4);
    assert.equal(parsed.store.storedAlerts, 2);
    const events = jsonLines((await runCustos(['events', '--config', onStandby, '--json'])).stdout);
    assert.equal(parsed.store.chainHead?.length, events.length);

    const manager = await runCustos(['status', '--store', `${pair.standbyUrl}?schema=${schema}`, '--json']);
    assert.equal(manager.code, 0, manager.stderr);
    assert.equal((JSON.parse(manager.stdout) as { mode: string; undeliveredAlerts: number }).undeliveredAlerts, 0);
  });

  it('refuses a check on the standby with a clear error, and the standby still holds what it held', async () => {
    const before = jsonLines((await runCustos(['events', '--config', onStandby, '--json'])).stdout).length;
    writeFileSync(join(watched, 'b'), 'b two\n');
    const check = await runCustos(['check', '--config', onStandby]);
    assert.ok(check.code !== 0 && check.code !== 1, `check on a standby must fail, not report (exit ${check.code})`);
    assert.match(check.stderr, /read-only/);
    assert.equal(jsonLines((await runCustos(['events', '--config', onStandby, '--json'])).stdout).length, before);
  });

  it('says a standby whose schema is older than this Custos must wait for the primary to be upgraded', async () => {
    const client = new pg.Client({ connectionString: pair.primaryUrl, options: `-c search_path=${schema}` });
    await client.connect();
    try {
      await client.query('UPDATE custos_schema_version SET version = version - 1');
    } finally {
      await client.end();
    }
    await pair.caughtUp();
    const run = await runCustos(['events', '--config', onStandby]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /hot standby at schema \d+, older than this Custos/);
  });
});
