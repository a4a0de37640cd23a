import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { MAX_CONTENT_BYTES } from '../../src/core/diff/content-capture.js';
import { checkWorkspace } from '../support/check-workspace.js';
import { mkfifoSync } from '../support/mkfifo.js';
import { CUSTOS_BIN, jsonLines, runCustos } from '../support/run-custos.js';
import { bytesPath } from '../support/temp-dir.js';
import { assertGrowingFileDiff } from '../support/growing-file-diff.js';

async function check(args: string[]): Promise<{ code: number | null; alerts: Alert[]; stderr: string }> {
  const run = await runCustos(['check', '--json', ...args]);
  return { code: run.code, alerts: jsonLines<Alert>(run.stdout), stderr: run.stderr };
}

const diffOf = (alerts: readonly Alert[], path: string): unknown => alerts.find((a) => a.syscheck.path === path)?.syscheck.diff;

/** Every file the workspace holds besides the monitored tree: databases, alerts.json, alerts.log. */
function storedBytes(dir: string): Buffer {
  return Buffer.concat(
    readdirSync(dir)
      .filter((n) => n !== 'tree' && n !== 'custos.yml' && n !== 'outside')
      .map((n) => readFileSync(join(dir, n))),
  );
}

describe('report_changes in standalone mode', () => {
  const SECRET = 'Zq9-very-secret-value-7731';
  const ws = checkWorkspace(['      report_changes: yes', '      diff_size_limit: 4KiB', '  nodiff:', '    - { sregex: "private.conf$" }', ''].join('\n'));
  const file = (name: string): string => join(ws.tree, name);
  const weirdName = bytesPath(ws.tree, '/caf', Buffer.from([0xe9]), '.conf');

  before(() => {
    writeFileSync(file('app.conf'), 'listen 80\nworkers 4\nlog /var/log/app\n');
    writeFileSync(file('blob.bin'), Buffer.from([1, 2, 0, 3]));
    writeFileSync(file('big.txt'), 'small at first\n');
    writeFileSync(file('private.conf'), `token ${SECRET}-v1\n`);
    writeFileSync(file('creds.conf'), 'user = app\n');
    writeFileSync(file('link-me.conf'), 'a plain file\n');
    writeFileSync(file('gone.conf'), 'soon deleted\n');
    writeFileSync(weirdName, 'one\n');
    writeFileSync(join(ws.dir, 'outside'), `outside secret ${SECRET}-target\n`);
    mkfifoSync(file('pipe'));
  });

  it('records first versions silently on the first scan, in an owner-only content database', async () => {
    const r = await check(ws.args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.alerts, []);
    assert.equal(statSync(join(ws.dir, 'custos-content.db')).mode & 0o777, 0o600);
  });

  it('puts the diff in syscheck.diff, alerts.log and the history, and says why when there is none', async () => {
    writeFileSync(file('app.conf'), 'listen 443\nworkers 4\nlog /var/log/app\n');
    writeFileSync(file('blob.bin'), Buffer.from([1, 2, 0, 4]));
    writeFileSync(file('big.txt'), 'x'.repeat(5000));
    writeFileSync(file('private.conf'), `token ${SECRET}-v2\n`);
    writeFileSync(file('creds.conf'), `user = app\npassword = ${SECRET}\n`);
    writeFileSync(file('new.conf'), 'first\n');
    writeFileSync(weirdName, 'two\n');
    const r = await check(ws.args);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(diffOf(r.alerts, file('app.conf')), '@@ -1,3 +1,3 @@\n-listen 80\n+listen 443\n workers 4\n log /var/log/app');
    assert.match(String(diffOf(r.alerts, file('blob.bin'))), /^diff not available: binary content \(size 4 -> 4 bytes, sha256 [0-9a-f]{64} -> [0-9a-f]{64}\)$/);
    assert.match(String(diffOf(r.alerts, file('big.txt'))), /^diff not available: file over the 4096-byte diff size limit \(size 15 -> 5000 bytes/);
    assert.match(String(diffOf(r.alerts, file('private.conf'))), /^diff not stored: nodiff \(private\.conf\$\)/);
    assert.equal(diffOf(r.alerts, file('creds.conf')), '@@ -1 +1,2 @@\n user = app\n+[redacted: 1 line]');
    // A new file has no diff: its content is only kept for the next change.
    assert.equal(diffOf(r.alerts, file('new.conf')), undefined);
    const weird = r.alerts.find((a) => a.syscheck.path_bytes === weirdName.toString('base64'));
    assert.equal(weird?.syscheck.diff, '@@ -1 +1 @@\n-one\n+two');
    const log = readFileSync(join(ws.dir, 'alerts.log'), 'utf8');
    assert.match(log, /Integrity checksum changed for: '[^']*app\.conf'\n[^]*?What changed:\n@@ -1,3 \+1,3 @@\n-listen 80\n\+listen 443\n/);
    const events = jsonLines<{ syscheck: { path: string; diff?: string } }>((await runCustos(['events', '--json', ...ws.args])).stdout);
    assert.equal(events.find((e) => e.syscheck.path === file('app.conf'))?.syscheck.diff, diffOf(r.alerts, file('app.conf')));
    const human = (await runCustos(['events', '--path', file('app.conf'), ...ws.args])).stdout;
    assert.match(human, /modified +[^\n]*app\.conf[^\n]*\n {4}@@ -1,3 \+1,3 @@\n {4}-listen 80\n/);
  });

  it('diffs a file that was new against its first version', async () => {
    writeFileSync(file('new.conf'), 'first\nsecond\n');
    const r = await check(ws.args);
    assert.equal(diffOf(r.alerts, file('new.conf')), '@@ -1 +1,2 @@\n first\n+second');
  });

  it('custos diff prints the history of one file with its diffs', async () => {
    const human = await runCustos(['diff', file('new.conf'), ...ws.args]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      /^\S+ agent 000 added [^\n]*new\.conf \(alerted, rule 554\)\n\n\S+ agent 000 modified [^\n]*new\.conf \(alerted, rule 550\)\n@@ -1 \+1,2 @@\n first\n\+second\n\n$/,
    );
    const json = jsonLines<{ syscheck: { event: string; diff?: string } }>((await runCustos(['diff', '--json', file('new.conf'), ...ws.args])).stdout);
    assert.deepEqual(
      json.map((e) => [e.syscheck.event, e.syscheck.diff]),
      [
        ['added', undefined],
        ['modified', '@@ -1 +1,2 @@\n first\n+second'],
      ],
    );
  });

  it('never lets the bytes of a secret or a nodiff file reach a database or an alert file', () => {
    const stored = storedBytes(ws.dir);
    assert.equal(stored.includes(SECRET), false);
  });

  it('never follows a file swapped for a symlink, and never blocks on a FIFO', async () => {
    unlinkSync(file('link-me.conf'));
    symlinkSync(join(ws.dir, 'outside'), file('link-me.conf'));
    writeFileSync(file('app.conf'), 'listen 8443\nworkers 4\nlog /var/log/app\n');
    const r = await check(ws.args);
    assert.equal(r.code, 1, r.stderr);
    const swapped = r.alerts.find((a) => a.syscheck.path === file('link-me.conf'));
    assert.ok(swapped !== undefined);
    assert.match(String(swapped.syscheck.diff), /^diff not available: not a regular file/);
    assert.equal(storedBytes(ws.dir).includes(`${SECRET}-target`), false);
  });

  it('starts over after a deletion', async () => {
    rmSync(file('gone.conf'));
    let r = await check(ws.args);
    assert.equal(r.alerts.find((a) => a.syscheck.path === file('gone.conf'))?.syscheck.diff, undefined);
    writeFileSync(file('gone.conf'), 'back\n');
    await check(ws.args);
    writeFileSync(file('gone.conf'), 'back again\n');
    r = await check(ws.args);
    assert.equal(diffOf(r.alerts, file('gone.conf')), '@@ -1 +1 @@\n-back\n+back again');
  });
});

describe('report_changes disk quota', () => {
  // Random text compresses to about half: 4 files of 3,000 characters cannot all fit in 4 KiB.
  const ws = checkWorkspace('      report_changes: yes\n  diff:\n    disk_quota: 4KiB\n');
  const names = ['a', 'b', 'c', 'd'];
  const content = (): string => `${randomBytes(1500).toString('hex')}\n`;

  it('evicts the oldest copies first and says so', async () => {
    for (const n of names) writeFileSync(join(ws.tree, n), content());
    assert.equal((await check(ws.args)).code, 0);
    // Two copies fit: a and b, the oldest, were evicted; c and d are kept.
    writeFileSync(join(ws.tree, 'a'), content());
    writeFileSync(join(ws.tree, 'd'), content());
    const r = await check(ws.args);
    assert.match(String(diffOf(r.alerts, join(ws.tree, 'a'))), /^diff not available: the earlier copy was evicted by the disk quota \(size 3001 -> 3001 bytes/);
    assert.match(String(diffOf(r.alerts, join(ws.tree, 'd'))), /^@@ -1 \+1 @@\n-[0-9a-f]{3000}\n\+[0-9a-f]{3000}$/);
  });
});

describe('report_changes off', () => {
  const ws = checkWorkspace();
  it('reads no content and makes no content database', async () => {
    writeFileSync(join(ws.tree, 'f'), 'one\n');
    await check(ws.args);
    writeFileSync(join(ws.tree, 'f'), 'two\n');
    const r = await check(ws.args);
    assert.equal(r.alerts[0]?.syscheck.diff, undefined);
    assert.equal(readdirSync(ws.dir).includes('custos-content.db'), false);
  });
});

/** `custos check --json` under /usr/bin/time: its alerts and its peak resident memory. */
function checkWithPeakRss(args: readonly string[]): Promise<{ code: number | null; alerts: Alert[]; peakRssBytes: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '@@RSS %M', process.execPath, CUSTOS_BIN, 'check', '--json', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const kb = /@@RSS (\d+)/.exec(err)?.[1];
      if (kb === undefined) return reject(new Error(`no peak RSS from /usr/bin/time: ${err}`));
      // /usr/bin/time reports the command's own exit code as its own.
      resolve({ code, alerts: jsonLines<Alert>(out), peakRssBytes: Number(kb) * 1024, stderr: err });
    });
  });
}

describe('report_changes on a huge file, whatever the configured limit', () => {
  // The user lifted the size limit; the content is still never read past the 4 MiB a diff is ever made of.
  const HUGE = 768 * 2 ** 20;
  const ws = checkWorkspace('      report_changes: yes\n  diff:\n    file_size: { enabled: no, limit: 1MiB }\n');
  const huge = (): string => join(ws.tree, 'huge.log');

  it('says the file is over the limit, and reads none of it into memory', async () => {
    // Sparse: 768 MiB that take no disk.
    writeFileSync(huge(), 'head\n');
    truncateSync(huge(), HUGE);
    const first = await checkWithPeakRss(ws.args);
    assert.equal(first.code, 0, first.stderr);
    const fd = openSync(huge(), 'r+');
    try {
      writeSync(fd, 'HEAD\n', 0);
    } finally {
      closeSync(fd);
    }
    const r = await checkWithPeakRss(ws.args);
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      String(diffOf(r.alerts, huge())),
      new RegExp(`^diff not available: file over the ${MAX_CONTENT_BYTES}-byte diff size limit \\(size ${HUGE} -> ${HUGE} bytes`),
    );
    // Hashing streams the file: a check that held it (or a tenth of it) in memory would show here.
    for (const run of [first, r]) assert.ok(run.peakRssBytes < HUGE / 4, `peak RSS ${run.peakRssBytes} bytes`);
  });
});

describe('report_changes on a file that grows while it is read', () => {
  const ws = checkWorkspace('      report_changes: yes\n      diff_size_limit: 64MiB\n');
  const growing = (): string => join(ws.tree, 'growing.log');

  it('never gives a diff of other bytes than the version the alert is about', async () => {
    writeFileSync(growing(), 'start\n');
    assert.equal((await check(ws.args)).code, 0);
    // A writer appending lines as fast as it can for the whole check: the content read after hashing is not the
    // hashed version.
    const writer = spawn('sh', ['-c', 'while :; do echo x; done >> "$1"', 'sh', growing()], { stdio: 'ignore' });
    let r: Awaited<ReturnType<typeof check>>;
    try {
      r = await check(ws.args);
    } finally {
      writer.kill('SIGKILL');
    }
    assert.equal(r.code, 1, r.stderr);
    const alert = r.alerts.find((a) => a.syscheck.path === growing());
    assert.ok(alert !== undefined, 'the growing file is reported');
    assertGrowingFileDiff(alert.syscheck.diff, alert.syscheck.size_after);
  });
});

describe('report_changes in the rules: changed_content', () => {
  const ws = checkWorkspace('      report_changes: yes\nrules:\n  files: [local_rules.xml]\n');
  before(() => {
    writeFileSync(
      join(ws.dir, 'local_rules.xml'),
      [
        '<group name="local,syscheck,">',
        '  <rule id="100210" level="12">',
        '    <if_sid>550</if_sid>',
        '    <field name="changed_content" type="pcre2">(?m)^\\+PermitRootLogin yes$</field>',
        '    <description>root login turned on in an sshd configuration</description>',
        '  </rule>',
        '</group>',
        '',
      ].join('\n'),
    );
  });

  it("lets a rule match the diff text, as Wazuh's changed_content does", async () => {
    writeFileSync(join(ws.tree, 'sshd_config'), 'Port 22\nPermitRootLogin no\n');
    writeFileSync(join(ws.tree, 'other_config'), 'Port 22\nPermitRootLogin yes\n');
    assert.equal((await check(ws.args)).code, 0);
    writeFileSync(join(ws.tree, 'sshd_config'), 'Port 22\nPermitRootLogin yes\n');
    // The line is in the file, not in what changed: the rule does not match.
    writeFileSync(join(ws.tree, 'other_config'), 'Port 2222\nPermitRootLogin yes\n');
    const r = await check(ws.args);
    assert.equal(r.code, 1, r.stderr);
    const rule = (name: string): unknown => r.alerts.find((a) => a.syscheck.path === join(ws.tree, name))?.rule.id;
    assert.equal(rule('sshd_config'), '100210');
    assert.equal(rule('other_config'), '550');
  });
});
