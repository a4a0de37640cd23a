import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

interface Effective {
  key: string;
  value: unknown;
  from: string;
}

/** `custos config check` through the real CLI on real files. */
describe('custos config check', () => {
  const dir = tempDir('custos-config-check-');

  it('prints every effective value with where it came from', async () => {
    const file = join(dir, 'custos.yml');
    writeFileSync(file, 'syscheck:\n  directories:\n    - path: /srv/www\n      check_sum: yes\n  frequency: 2h\n');
    const run = await runCustos(['config', 'check', '--config', file, '--db', join(dir, 'c.db'), '--json']);
    assert.equal(run.code, 0, run.stderr);
    const values = new Map(jsonLines<Effective>(run.stdout).map((v) => [v.key, v]));
    assert.deepEqual(values.get('syscheck.directories[0].path'), { key: 'syscheck.directories[0].path', value: '/srv/www', from: file });
    assert.deepEqual(values.get('syscheck.frequencyMs'), { key: 'syscheck.frequencyMs', value: 7_200_000, from: file });
    // check_sum: the digests only.
    assert.equal(values.get('syscheck.directories[0].checks.size')?.value, false);
    assert.equal(values.get('syscheck.alertNewFiles')?.from, 'default');
    assert.equal(values.get('syscheck.alertNewFiles')?.value, true);
    assert.deepEqual(values.get('storage.path'), { key: 'storage.path', value: join(dir, 'c.db'), from: '--db' });
    assert.equal(values.get('manager.listenPort')?.from, 'default');
  });

  it('exits 2 and names file, line and key of every error', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(file, 'syscheck:\n  directories:\n    - path: /srv\n      check_sum: maybe\n  frequency: soon\n');
    const run = await runCustos(['config', 'check', '--config', file]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, new RegExp(`${file}:4: syscheck\\.directories\\[0\\]\\.check_sum: `));
    assert.match(run.stderr, new RegExp(`${file}:5: syscheck\\.frequency: `));
  });

  it('accepts the starter file custos init writes (the packaged /etc/custos/custos.yml)', async () => {
    const file = join(dir, 'starter.yml');
    assert.equal((await runCustos(['init', file])).code, 0);
    const run = await runCustos(['config', 'check', '--config', file]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /: valid/);
  });

  it('custos init writes every option: uncommented, the whole file is a valid configuration that sets each section', async () => {
    const file = join(dir, 'every-option.yml');
    assert.equal((await runCustos(['init', file])).code, 0);
    // A commented option is `# key: ...` or `# - ...` (descriptions start with a capital letter or are not YAML).
    const uncommented = readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.replace(/^(\s*)# ?(?=\s*(?:[a-z_]+:|- ))/, '$1'))
      .join('\n');
    writeFileSync(file, uncommented);
    const run = await runCustos(['config', 'check', '--config', file, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const fromFile = new Set(
      jsonLines<Effective>(run.stdout)
        .filter((v) => v.from === file)
        .map((v) => v.key),
    );
    for (const key of [
      // (Options whose example value is the default show as `default`: only those that differ are listed.)
      'agentName',
      'rules.files',
      'manager.syslog.host',
      'manager.webhook.url',
      'manager.packages.keyring',
      'syscheck.directories[1].realtime',
      'syscheck.directories[1].tags',
      'syscheck.nodiff',
      'syscheck.scanTime',
      'syscheck.scanDay',
    ]) {
      assert.ok(
        [...fromFile].some((k) => k === key || k.startsWith(`${key}.`) || k.startsWith(`${key}[`)),
        `${key} is not set by the uncommented starter file`,
      );
    }
  });
});
