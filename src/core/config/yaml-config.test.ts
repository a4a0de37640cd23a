import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatConfigIssue } from '../custos-error.js';
import { parseYamlConfig } from './yaml-config.js';

const defaults = { dataDir: '/var/lib/custos', hostname: 'host1' };

describe('parseYamlConfig', () => {
  it('gives the documented defaults for an empty file', () => {
    const r = parseYamlConfig('', 'custos.yml', defaults);
    assert.ok(r.ok);
    const c = r.value.config;
    assert.deepEqual(
      c.syscheck.directories.map((d) => d.path),
      ['/etc', '/usr/bin', '/usr/sbin', '/bin', '/sbin', '/boot'],
    );
    assert.equal(c.syscheck.frequencyMs, 6 * 3600 * 1000);
    assert.equal(c.syscheck.maxFileSizeBytes, 1024 ** 3);
    assert.equal(c.syscheck.alertNewFiles, true);
    assert.deepEqual(c.storage, { engine: 'sqlite', path: '/var/lib/custos/custos.db' });
    assert.equal(c.alerts.jsonPath, '/var/lib/custos/alerts.json');
    assert.equal(c.agentName, 'host1');
    assert.ok(c.syscheck.ignore.some((p) => p.source === '/etc/mtab'));
    assert.ok(Object.isFrozen(c.syscheck.directories[0]));
  });
  it('reads directories with OSSEC options, units and patterns', () => {
    const text = [
      'syscheck:',
      '  frequency: 30m',
      '  max_file_size: 512KiB',
      '  rehash_interval: 7d',
      '  directories:',
      '    - path: [/var/www, /srv]',
      '      check_sum: yes',
      '      recursion_level: 3',
      '      restrict: .php$',
      '      ignore: [/var/www/cache, { sregex: "\\\\.tmp$" }]',
      '  ignore:',
      '    - sregex: .swp$',
    ].join('\n');
    const r = parseYamlConfig(text, 'custos.yml', defaults);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    const s = r.value.config.syscheck;
    assert.equal(s.frequencyMs, 1_800_000);
    assert.equal(s.maxFileSizeBytes, 512 * 1024);
    assert.equal(s.rehashIntervalMs, 7 * 86_400_000);
    assert.deepEqual(
      s.directories.map((d) => d.path),
      ['/var/www', '/srv'],
    );
    assert.deepEqual(s.directories[0]?.checks, {
      md5: true,
      sha1: true,
      sha256: true,
      size: false,
      owner: false,
      group: false,
      perm: false,
      mtime: false,
      inode: false,
      capabilities: false,
      acl: false,
      selinux: false,
      xattrs: false,
      flags: false,
      linkCount: false,
    });
    assert.equal(s.directories[0]?.recursionLevel, 3);
    assert.equal(s.directories[0]?.restrict, '.php$');
    assert.deepEqual(s.directories[0]?.ignore, [
      { kind: 'path', source: '/var/www/cache' },
      { kind: 'sregex', source: '\\.tmp$' },
    ]);
    assert.deepEqual(s.ignore, [{ kind: 'sregex', source: '.swp$' }]);
  });
  it('reports every problem at once, each with its line and key', () => {
    const text = [
      'syscheck:', //            1
      '  frequency: often', //   2
      '  directories:', //       3
      '    - path: etc', //      4
      '      check_size: maybe', // 5
      '      colour: blue', //   6
      '  max_file_size: 1 zettabyte', // 7
      'datbase: {}', //          8
    ].join('\n');
    const r = parseYamlConfig(text, '/etc/custos/custos.yml', defaults);
    assert.ok(!r.ok);
    const found = r.error.map((i) => `${i.line}:${i.key}`).sort();
    assert.deepEqual(
      found,
      [
        '2:syscheck.frequency',
        '4:syscheck.directories[0].path',
        '5:syscheck.directories[0].check_size',
        '6:syscheck.directories[0].colour',
        '7:syscheck.max_file_size',
        '8:datbase',
      ].sort(),
    );
    assert.ok(r.error.every((i) => i.file === '/etc/custos/custos.yml'));
    assert.match(r.error.find((i) => i.key === 'datbase')?.message ?? '', /unknown key "datbase"/);
  });
  it('reads OSSEC scan_time and scan_day values', () => {
    const cases: [string, string][] = [
      ['22:00', 'weekdays'],
      ['10pm', 'monday'],
      ['"10:30 pm"', 'sat,sun'],
      ['12am', '"!sunday"'],
    ];
    for (const [time, day] of cases) {
      const r = parseYamlConfig(`syscheck:\n  scan_time: ${time}\n  scan_day: ${day}\n`, 'c.yml', defaults);
      assert.ok(r.ok, `${time} ${day}: ${JSON.stringify(!r.ok && r.error)}`);
      assert.equal(r.value.config.syscheck.scanTime, time.replace(/"/g, ''));
      assert.equal(r.value.config.syscheck.scanDay, day.replace(/"/g, ''));
      assert.deepEqual(r.value.warnings, []);
    }
  });
  it('refuses a scan_day or scan_time the scheduler cannot follow, naming the file, line and key', () => {
    const text = [
      'syscheck:', //           1
      '  frequency: 1h', //     2
      '  scan_day: funday', //  3
      '  scan_time: 25:00', //  4
    ].join('\n');
    const r = parseYamlConfig(text, '/etc/custos/custos.yml', defaults);
    assert.ok(!r.ok);
    assert.deepEqual(r.error.map((i) => `${i.file}:${i.line}:${i.key}`).sort(), [
      '/etc/custos/custos.yml:3:syscheck.scan_day',
      '/etc/custos/custos.yml:4:syscheck.scan_time',
    ]);
    const shown = r.error.map(formatConfigIssue).sort();
    assert.match(
      shown[0]!,
      /^\/etc\/custos\/custos\.yml:3: syscheck\.scan_day: "funday" is not a day \(expected monday\.\.sunday, mon\.\.sun, weekdays or weekends/,
    );
    assert.equal(shown[1], '/etc/custos/custos.yml:4: syscheck.scan_time: "25:00" is not a time (expected 10pm, 9:30am, 21pm or 22:00)');
  });
  it('refuses each invalid scan_day and scan_time on its own', () => {
    for (const day of ['funday', 'tues', 'mon,!mon', '"!"', '""']) {
      const r = parseYamlConfig(`syscheck:\n  scan_day: ${day}\n`, 'c.yml', defaults);
      assert.ok(!r.ok, day);
      assert.deepEqual(
        r.error.map((i) => `${i.line}:${i.key}`),
        ['2:syscheck.scan_day'],
        day,
      );
    }
    for (const time of ['25:00', '24:00', '24pm', '0am', '"12:60"', '"10:30:00"', 'noon']) {
      const r = parseYamlConfig(`syscheck:\n  scan_time: ${time}\n`, 'c.yml', defaults);
      assert.ok(!r.ok, time);
      assert.deepEqual(
        r.error.map((i) => `${i.line}:${i.key}`),
        ['2:syscheck.scan_time'],
        time,
      );
    }
  });
  it('reports YAML syntax errors with their line', () => {
    const r = parseYamlConfig('syscheck:\n  frequency: 1h\n   bad: [\n', 'c.yml', defaults);
    assert.ok(!r.ok);
    assert.ok(r.error.length > 0 && r.error.every((i) => typeof i.line === 'number'));
  });
  it('warns about options that are not in effect instead of dropping them silently', () => {
    const r = parseYamlConfig('syscheck:\n  nodiff: [/etc/ssl]\n  directories:\n    - path: /etc\n', 'c.yml', defaults);
    assert.ok(r.ok);
    assert.deepEqual(
      r.value.warnings.map((w) => `${w.line}:${w.key}`),
      ['2:syscheck.nodiff'],
    );
    const inEffect = parseYamlConfig('syscheck:\n  nodiff: [/etc/ssl]\n  directories:\n    - path: /etc\n      report_changes: yes\n', 'c.yml', defaults);
    assert.ok(inEffect.ok);
    assert.deepEqual(inEffect.value.warnings, []);
  });
  it('reads the diff options', () => {
    const r = parseYamlConfig(
      'syscheck:\n  directories:\n    - path: /etc\n      report_changes: yes\n      diff_size_limit: 4KiB\n  diff:\n    disk_quota: 10MiB\n    file_size: { enabled: no, limit: 1KiB }\n    builtin_nodiff: no\n    redact: ["^license "]\n',
      'c.yml',
      defaults,
    );
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.value.config.syscheck.directories[0]?.diffSizeLimitBytes, 4096);
    assert.deepEqual(r.value.config.syscheck.diff, {
      fileSizeLimitBytes: Number.MAX_SAFE_INTEGER,
      diskQuotaBytes: 10 * 1024 * 1024,
      builtinNodiff: false,
      redact: ['^license '],
    });
    const bad = parseYamlConfig('syscheck:\n  diff:\n    redact: ["(unclosed"]\n', 'c.yml', defaults);
    assert.ok(!bad.ok);
    assert.deepEqual(
      bad.error.map((i) => `${i.line}:${i.key}`),
      ['3:syscheck.diff.redact[0]'],
    );
  });
});

describe('database.history_retention', () => {
  it('is read on either engine, and absent means history is kept for ever', () => {
    const pgConfig = parseYamlConfig('database:\n  engine: postgres\n  url: postgres://custos@db/custos\n  history_retention: 400d\n', 'custos.yml', defaults);
    assert.ok(pgConfig.ok);
    assert.deepEqual(pgConfig.value.config.storage, { engine: 'postgres', url: 'postgres://custos@db/custos', historyRetentionMs: 400 * 86_400_000 });
    const sqlite = parseYamlConfig('database:\n  history_retention: 90d\n', 'custos.yml', defaults);
    assert.ok(sqlite.ok);
    assert.equal(sqlite.value.config.storage.historyRetentionMs, 90 * 86_400_000);
    const none = parseYamlConfig('', 'custos.yml', defaults);
    assert.ok(none.ok);
    assert.equal(none.value.config.storage.historyRetentionMs, undefined);
  });
  it('refuses a retention under a day and one that is not a duration', () => {
    for (const [value, message] of [
      ['2h', /at least 1d/],
      ['forever', /not a duration/],
    ] as const) {
      const r = parseYamlConfig(`database:\n  history_retention: ${value}\n`, 'custos.yml', defaults);
      assert.ok(!r.ok);
      assert.match(r.error.map(formatConfigIssue).join('\n'), message);
    }
  });
});
