import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/** The edges a sysadmin meets on day one, each through the real CLI. */
describe('day-one edges', () => {
  it('a path on the command line that does not exist is an error naming it (exit 2), and nothing is created', async () => {
    const dir = tempDir('custos-day-one-');
    const db = join(dir, 'data', 'custos.db');
    const missing = join(dir, 'not-there');
    const run = await runCustos(['check', '--db', db, missing]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(`${missing}: no such file or directory`));
    assert.doesNotMatch(run.stderr, /scanned 0 entries/);
    assert.deepEqual(readdirSync(dir), []);
    const accept = await runCustos(['accept', '--db', db, missing]);
    assert.equal(accept.code, 2);
  });

  it('a --root that does not exist, or a path missing under it, is an error naming it (exit 2)', async () => {
    const dir = tempDir('custos-day-one-');
    const noRoot = await runCustos(['check', '--db', join(dir, 'c.db'), '--root', join(dir, 'no-root'), '/etc']);
    assert.equal(noRoot.code, 2);
    assert.match(noRoot.stderr, /--root .*no-root/);
    mkdirSync(join(dir, 'root'));
    const underRoot = await runCustos(['check', '--db', join(dir, 'c.db'), '--root', join(dir, 'root'), '/etc']);
    assert.equal(underRoot.code, 2);
    assert.match(underRoot.stderr, /\/etc \(under --root .*root\): no such file or directory/);
    assert.deepEqual(readdirSync(dir), ['root']);
  });

  it('relative paths are made absolute: `check dir` and `check /abs/dir` share one baseline', async () => {
    const dir = tempDir('custos-day-one-');
    const watched = join(dir, 'watched');
    mkdirSync(watched);
    writeFileSync(join(watched, 'file'), 'one\n');
    const db = join(dir, 'custos.db');
    const first = await runCustos(['check', '--db', db, 'watched'], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    writeFileSync(join(watched, 'file'), 'two\n');
    const second = await runCustos(['check', '--db', db, '--json', watched]);
    assert.equal(second.code, 1, second.stderr);
    const alerts = jsonLines<{ rule: { id: unknown }; syscheck: { path: string; event: string } }>(second.stdout);
    assert.deepEqual(
      alerts.map((a) => [String(a.rule.id), a.syscheck.path, a.syscheck.event]),
      [['550', join(watched, 'file'), 'modified']],
    );
    const third = await runCustos(['check', '--db', db, '.'], { cwd: watched });
    assert.equal(third.code, 0, third.stderr);
    assert.doesNotMatch(third.stderr, /first scan of newly monitored/);
  });

  it('read-only commands never create a database: a missing one is an error naming it', async () => {
    const dir = tempDir('custos-day-one-');
    const db = join(dir, 'sub', 'custos.db');
    const hashdb = join(dir, 'sub', 'hashdb.sqlite');
    for (const args of [
      ['events', '--db', db],
      ['alerts', '--db', db],
      ['verify', '--db', db],
      ['status', '--db', db],
      ['events', '--data', join(dir, 'manager')],
    ]) {
      const run = await runCustos(args);
      assert.notEqual(run.code, 0, args.join(' '));
      assert.match(run.stderr, /no baseline database at \S+custos\.db/, args.join(' '));
    }
    for (const args of [
      ['hashdb', 'stats', '--hashdb', hashdb],
      ['hashdb', 'lookup', 'd41d8cd98f00b204e9800998ecf8427e', '--hashdb', hashdb],
    ]) {
      const run = await runCustos(args);
      assert.notEqual(run.code, 0, args.join(' '));
      assert.match(run.stderr, new RegExp(`no known-hash database at ${hashdb}`), args.join(' '));
    }
    assert.deepEqual(readdirSync(dir), []);
  });

  it('usage errors exit 2 with a message on every subcommand, nested ones included', async () => {
    // A database that does not exist: the usage error must be found before any database is looked for.
    const db = join(tempDir('custos-day-one-'), 'custos.db');
    for (const args of [
      ['check', '--no-such-option'],
      ['hashdb', 'lookup'],
      ['hashdb', 'import'],
      ['hashdb', 'apt-hook', 'no-such-command'],
      ['manager', 'revoke'],
      ['maintenance', 'start'],
      ['agent', 'enroll'],
      ['events', '--db', db, '--since', 'yesterday'],
      ['alerts', '--db', db, '--since', 'yesterday'],
      ['events', '--db', db, '--limit', 'none'],
      ['no-such-command'],
    ]) {
      const run = await runCustos(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.notEqual(run.stderr.trim(), '', `${args.join(' ')} printed nothing`);
    }
  });

  it('apt-hook install writes absolute paths (dpkg runs hooks from /), and remove says when there was nothing to remove', { timeout: 120_000 }, async () => {
    const dir = tempDir('custos-day-one-');
    mkdirSync(join(dir, 'apt.conf.d'));
    mkdirSync(join(dir, 'dpkg.cfg.d'));
    const dirs = ['--apt-conf-dir', 'apt.conf.d', '--dpkg-conf-dir', 'dpkg.cfg.d'];
    const installed = await runCustos(['hashdb', 'apt-hook', 'install', ...dirs, '--hashdb', 'hashdb.sqlite'], { cwd: dir });
    assert.equal(installed.code, 0, installed.stderr);
    const line = readFileSync(join(dir, 'dpkg.cfg.d', 'custos-known-hashes'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('post-invoke='));
    assert.ok(line !== undefined);
    const hook = line.slice('post-invoke='.length).replace(/^"(.*)"$/, '$1');
    assert.ok(hook.includes(`--hashdb '${join(dir, 'hashdb.sqlite')}'`), hook);
    // As dpkg runs it: from /.
    execFileSync('sh', ['-c', hook], { cwd: '/' });
    assert.ok(existsSync(join(dir, 'hashdb.sqlite')), 'the hook run from / did not write the database named relative to where it was installed');

    const removed = await runCustos(['hashdb', 'apt-hook', 'remove', ...dirs], { cwd: dir });
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^removed .*custos-known-hashes$/m);
    const again = await runCustos(['hashdb', 'apt-hook', 'remove', ...dirs], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^nothing to remove: no hook at /);
  });

  it('maintenance takes --data like the other fleet commands; stop without --agent says what it ended and what is still open', async () => {
    const dir = tempDir('custos-day-one-');
    const data = join(dir, 'manager');
    mkdirSync(data);
    assert.equal((await runCustos(['maintenance', 'start', '--data', data, '--for', '1h', '--reason', 'patch night'])).code, 0);
    const own = await runCustos(['maintenance', 'start', '--data', data, '--for', '2h', '--agent', '001']);
    assert.equal(own.code, 0, own.stderr);
    assert.ok(existsSync(join(data, 'custos.db')), '--data did not name the manager database');
    const stop = await runCustos(['maintenance', 'stop', '--data', data]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stdout, /^ended 1 maintenance window for every agent$/m);
    assert.match(stop.stdout, /^still open: window \d+ for agent 001 until \S+ \(custos maintenance stop --agent 001\)$/m);
    const stopAgent = await runCustos(['maintenance', 'stop', '--data', data, '--agent', '001']);
    assert.match(stopAgent.stdout, /^ended 1 maintenance window for agent 001$/m);
    assert.doesNotMatch(stopAgent.stdout, /still open/);
  });

  it('a baseline database and a known-hash database are told apart: opening one as the other is an error (exit 2)', async () => {
    const dir = tempDir('custos-day-one-');
    const watched = join(dir, 'watched');
    mkdirSync(watched);
    writeFileSync(join(watched, 'file'), 'one\n');
    const db = join(dir, 'custos.db');
    assert.equal((await runCustos(['check', '--db', db, watched])).code, 0);
    const list = join(dir, 'bad.txt');
    writeFileSync(list, `${'a'.repeat(64)}\n`);
    const hashdb = join(dir, 'hashdb.sqlite');
    const imported = await runCustos(['hashdb', 'import', 'hashes', list, '--bad', '--hashdb', hashdb]);
    assert.equal(imported.code, 0, imported.stderr);

    const swapped = [
      { args: ['hashdb', 'stats', '--hashdb', db], says: `${db} is a Custos baseline database, not a Custos known-hash database` },
      { args: ['hashdb', 'import', 'hashes', list, '--hashdb', db], says: `${db} is a Custos baseline database, not a Custos known-hash database` },
      { args: ['check', '--db', hashdb, watched], says: `${hashdb} is a Custos known-hash database, not a Custos baseline database` },
      { args: ['events', '--db', hashdb], says: `${hashdb} is a Custos known-hash database, not a Custos baseline database` },
      { args: ['status', '--db', hashdb], says: `${hashdb} is a Custos known-hash database, not a Custos baseline database` },
    ];
    for (const { args, says } of swapped) {
      const run = await runCustos(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.ok(run.stderr.includes(says), `${args.join(' ')}: ${run.stderr}`);
    }
    // A database written before application ids: told apart by its tables.
    const old = new Database(db);
    old.pragma('application_id = 0');
    old.close();
    const legacy = await runCustos(['hashdb', 'stats', '--hashdb', db]);
    assert.equal(legacy.code, 2, legacy.stderr);
    assert.match(legacy.stderr, /is a Custos baseline database, not a Custos known-hash database/);
    // ... and still opens as what it is, marked from then on.
    assert.equal((await runCustos(['check', '--db', db, watched])).code, 0);
    const marked = new Database(db, { readonly: true });
    assert.equal(Number(marked.pragma('application_id', { simple: true })), 0x43535442);
    marked.close();
  });
});
