import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Alert } from '../../src/core/build-alert.js';
import { MAX_CONTENT_BYTES } from '../../src/core/diff/content-capture.js';
import { CustosService, eventually } from '../support/custos-service.js';
import { FleetHarness, scanDelivered, type ManagerHandle } from '../support/fleet-harness.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { bytesPath, tempDir } from '../support/temp-dir.js';
import { assertGrowingFileDiff } from '../support/growing-file-diff.js';

/** Every file directly in `dir` (databases with their -wal and -shm, alerts.json, alerts.log), read now. */
function filesIn(dir: string): Buffer {
  return Buffer.concat(
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      if (!e.isFile()) return [];
      try {
        return [readFileSync(join(dir, e.name))];
      } catch {
        // A -shm or -wal file removed between the listing and the read.
        return [];
      }
    }),
  );
}

/**
 * A fleet of one real manager and one real agent with report_changes on `tree` (realtime), started on an empty
 * tree, and only given files once the agent has heard from the manager that it takes content: so every file's
 * first version reaches the manager with its `added` event, and its first modification already has a diff.
 */
async function startFleet(
  harness: FleetHarness,
  tree: string,
  extraYaml = '',
): Promise<{ manager: ManagerHandle; agent: CustosService; agentId: string; data: string }> {
  const data = join(harness.dir, 'agent');
  mkdirSync(tree);
  const manager = await harness.startManager();
  const enrolled = await harness.enroll(manager, 'web1', data, ['--name', 'web1']);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  const config = join(data, 'custos.yml');
  writeFileSync(config, `syscheck:\n  frequency: 1h\n  directories:\n    - path: ${tree}\n      realtime: yes\n      report_changes: yes\n${extraYaml}`);
  const agent = new CustosService(['agent', 'start', '--data', data, '--config', config, '--keepalive', '1s']);
  await scanDelivered(agent, 0);
  await agent.waitForLog((l) => l.msg === 'watching in realtime', 20_000);
  // The keep-alive answer that says the manager takes content, as the agent keeps it.
  await eventually(
    () => {
      const db = new Database(join(data, 'agent.db'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare("SELECT value FROM meta WHERE key = 'manager_content_diffs'").pluck().get() === undefined ? undefined : true;
      } finally {
        db.close();
      }
    },
    30_000,
    "the manager's keep-alive answer",
  );
  return { manager, agent, agentId: enrolled.id ?? '', data };
}

/**
 * report_changes across a real manager and a real agent: the agent sends the changed file's content, the manager
 * keeps it and makes the diff; the agent keeps nothing once the manager has it.
 */
describe('report_changes in a fleet: diffs made on the manager', { timeout: 240_000 }, () => {
  const SECRET = 'Fleet-secret-4471-xyzzy';
  const harness = new FleetHarness(tempDir('custos-fleet-diff-'));
  const tree = join(harness.dir, 'tree');
  const file = (name: string): string => join(tree, name);
  const weirdName = bytesPath(tree, '/caf', Buffer.from([0xe9]), '.conf');
  // A second directory, without a size limit: only the 4 MiB ceiling applies there.
  const unlimited = join(harness.dir, 'unlimited');
  let manager: ManagerHandle;
  let agent: CustosService;
  let agentId = '';
  let data = '';

  const fileAlerts = (path: string): Alert[] => harness.alerts().filter((a): a is Alert => 'syscheck' in a && a.syscheck.path === path);
  const nth = (path: string, event: string, n: number): Promise<Alert> =>
    eventually(
      () => fileAlerts(path).filter((a) => a.syscheck.event === event)[n],
      30_000,
      () => `${event} alert ${n + 1} of ${path}; got ${JSON.stringify(fileAlerts(path).map((a) => a.syscheck.event))}`,
    );

  before(async () => {
    mkdirSync(unlimited);
    ({ manager, agent, agentId, data } = await startFleet(
      harness,
      tree,
      `      diff_size_limit: 4KiB\n    - path: ${unlimited}\n      realtime: yes\n      report_changes: yes\n  nodiff:\n    - { sregex: "private.conf$" }\n  diff:\n    file_size: { enabled: no, limit: 1MiB }\n`,
    ));
    writeFileSync(file('app.conf'), 'listen 80\nworkers 4\n');
    writeFileSync(file('shadow.key'), 'k1\n');
    writeFileSync(file('blob.bin'), Buffer.from([1, 2, 0, 3]));
    writeFileSync(file('big.txt'), 'small at first\n');
    writeFileSync(file('private.conf'), `token ${SECRET}-v1\n`);
    writeFileSync(file('gone.conf'), 'soon deleted\n');
    writeFileSync(weirdName, 'one\n');
    for (const name of ['app.conf', 'shadow.key', 'blob.bin', 'big.txt', 'private.conf', 'gone.conf']) await nth(file(name), 'added', 0);
    await eventually(
      () => harness.alerts().find((a) => 'syscheck' in a && a.syscheck.path_bytes === weirdName.toString('base64')),
      30_000,
      'the non-UTF-8 name added',
    );
  });

  after(async () => {
    await agent?.kill();
    await manager?.service.kill();
  });

  it('carries the diff to the manager in the alert, secrets redacted', async () => {
    writeFileSync(file('app.conf'), 'listen 443\nworkers 4\n');
    const first = await nth(file('app.conf'), 'modified', 0);
    assert.equal(first.syscheck.diff, '@@ -1,2 +1,2 @@\n-listen 80\n+listen 443\n workers 4');
    writeFileSync(file('app.conf'), `listen 443\nworkers 8\npassword = ${SECRET}\n`);
    const alert = await nth(file('app.conf'), 'modified', 1);
    assert.equal(alert.agent.id, agentId);
    assert.equal(alert.syscheck.diff, '@@ -1,2 +1,3 @@\n listen 443\n-workers 4\n+workers 8\n+[redacted: 1 line]');
    // alerts.log is written after alerts.json (the sinks run one after the other): wait for it there too.
    const logged = /What changed:\n@@ -1,2 \+1,3 @@\n listen 443\n-workers 4\n/;
    const log = join(harness.managerData, 'alerts.log');
    await eventually(() => (existsSync(log) && logged.test(readFileSync(log, 'utf8')) ? true : undefined), 10_000, 'the diff in alerts.log');
    assert.match(readFileSync(log, 'utf8'), logged);
  });

  it("says why there is no diff: binary, over the limit, the agent's nodiff, the built-in nodiff", async () => {
    writeFileSync(file('blob.bin'), Buffer.from([1, 2, 0, 4]));
    writeFileSync(file('big.txt'), 'x'.repeat(5000));
    writeFileSync(file('private.conf'), `token ${SECRET}-v2\n`);
    writeFileSync(file('shadow.key'), 'k2\n');
    assert.match(
      String((await nth(file('blob.bin'), 'modified', 0)).syscheck.diff),
      /^diff not available: binary content \(size 4 -> 4 bytes, sha256 [0-9a-f]{64} -> [0-9a-f]{64}\)$/,
    );
    assert.match(
      String((await nth(file('big.txt'), 'modified', 0)).syscheck.diff),
      /^diff not available: file over the 4096-byte diff size limit \(size 15 -> 5000 bytes/,
    );
    assert.match(String((await nth(file('private.conf'), 'modified', 0)).syscheck.diff), /^diff not stored: nodiff \(private\.conf\$\)/);
    assert.match(String((await nth(file('shadow.key'), 'modified', 0)).syscheck.diff), /^diff not stored: nodiff/);
  });

  it('diffs a file with a name that is not UTF-8', async () => {
    writeFileSync(weirdName, 'two\n');
    const alert = await eventually(
      () =>
        harness.alerts().find((a): a is Alert => 'syscheck' in a && a.syscheck.path_bytes === weirdName.toString('base64') && a.syscheck.event === 'modified'),
      30_000,
      'the non-UTF-8 name modified',
    );
    assert.equal(alert.syscheck.diff, '@@ -1 +1 @@\n-one\n+two');
  });

  it('records a new file without a diff, and diffs its next change against it', async () => {
    writeFileSync(file('new.conf'), 'first\n');
    assert.equal((await nth(file('new.conf'), 'added', 0)).syscheck.diff, undefined);
    writeFileSync(file('new.conf'), 'first\nsecond\n');
    assert.equal((await nth(file('new.conf'), 'modified', 0)).syscheck.diff, '@@ -1 +1,2 @@\n first\n+second');
    // The history on the manager, for that agent.
    const history = await runCustos(['diff', '--json', file('new.conf'), '--agent', agentId, '--data', harness.managerData]);
    assert.equal(history.code, 0, history.stderr);
    const events = jsonLines<{ agent: { id: string }; syscheck: { event: string; diff?: string } }>(history.stdout);
    assert.deepEqual(
      events.map((e) => [e.agent.id, e.syscheck.event, e.syscheck.diff]),
      [
        [agentId, 'added', undefined],
        [agentId, 'modified', '@@ -1 +1,2 @@\n first\n+second'],
      ],
    );
  });

  it("forgets a deleted file's copy and starts over when it comes back", async () => {
    rmSync(file('gone.conf'));
    assert.equal((await nth(file('gone.conf'), 'deleted', 0)).syscheck.diff, undefined);
    writeFileSync(file('gone.conf'), 'back\n');
    assert.equal((await nth(file('gone.conf'), 'added', 1)).syscheck.diff, undefined);
    writeFileSync(file('gone.conf'), 'back again\n');
    assert.equal((await nth(file('gone.conf'), 'modified', 0)).syscheck.diff, '@@ -1 +1 @@\n-back\n+back again');
  });

  it('says a huge file is over the 4 MiB ceiling, and the agent never holds it in memory', async () => {
    const HUGE = 768 * 2 ** 20;
    const huge = join(unlimited, 'huge.log');
    // The agent's peak resident memory (VmHWM) before and after: hashing streams the file, its content is never read.
    const peakKb = (): number => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.pid ?? 0}/status`, 'utf8'))?.[1]);
    const peakBefore = peakKb();
    // Sparse: 768 MiB that take no disk.
    writeFileSync(huge, 'head\n');
    truncateSync(huge, HUGE);
    await nth(huge, 'added', 0);
    const fd = openSync(huge, 'r+');
    try {
      writeSync(fd, 'HEAD\n', 0);
    } finally {
      closeSync(fd);
    }
    const alert = await nth(huge, 'modified', 0);
    assert.match(
      String(alert.syscheck.diff),
      new RegExp(`^diff not available: file over the ${MAX_CONTENT_BYTES}-byte diff size limit \\(size ${HUGE} -> ${HUGE} bytes`),
    );
    const grewKb = peakKb() - peakBefore;
    assert.ok(grewKb * 1024 < HUGE / 4, `the agent's peak RSS grew by ${grewKb} kB, from ${peakBefore} kB`);
  });

  it('never sends the content of another version than the one a change is about, for a file growing as it is read', async () => {
    const growing = join(unlimited, 'growing.log');
    writeFileSync(growing, 'start\n');
    await nth(growing, 'added', 0);
    // A writer appending lines as fast as it can: what the agent reads after hashing is not the hashed version.
    const writer = spawn('sh', ['-c', 'while :; do echo x; done >> "$1"', 'sh', growing], { stdio: 'ignore' });
    let alert: Alert;
    try {
      alert = await nth(growing, 'modified', 0);
    } finally {
      writer.kill('SIGKILL');
    }
    assertGrowingFileDiff(alert.syscheck.diff, alert.syscheck.size_after);
  });

  it('keeps the content on the manager only: nothing of it on the agent, no secret anywhere', async () => {
    assert.ok(readdirSync(harness.managerData).includes('custos-content.db'));
    // The agent's state: its cache and meta, and an outbox emptied by the acknowledgements.
    const db = new Database(join(data, 'agent.db'), { readonly: true, fileMustExist: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).sort();
      assert.deepEqual(tables, ['cache', 'meta', 'outbox']);
      await eventually(() => (Number(db.prepare('SELECT count(*) FROM outbox').pluck().get()) === 0 ? true : undefined), 20_000, 'an empty outbox');
    } finally {
      db.close();
    }
    // Every file of both data directories, the databases' write-ahead logs included, read while both run.
    assert.equal(filesIn(harness.managerData).includes(SECRET), false, 'the secret in a manager file');
    assert.equal(filesIn(data).includes(SECRET), false, 'the secret in an agent file');
  });
});

describe("report_changes in a fleet: the manager's disk quota", { timeout: 180_000 }, () => {
  // Random text compresses to about half: 4 copies of 3,000 characters cannot all fit in the manager's 4 KiB.
  const harness = new FleetHarness(
    tempDir('custos-fleet-diff-quota-'),
    'manager:\n  listen: 127.0.0.1:0\n  silent_after: 1h\nsyscheck:\n  diff:\n    disk_quota: 4KiB\n',
  );
  const tree = join(harness.dir, 'tree');
  let manager: ManagerHandle;
  let agent: CustosService;
  const content = (): string => `${randomBytes(1500).toString('hex')}\n`;
  const fileAlert = (name: string, event: string): Promise<Alert> =>
    eventually(
      () => harness.alerts().find((a): a is Alert => 'syscheck' in a && a.syscheck.path === join(tree, name) && a.syscheck.event === event),
      30_000,
      `${event} alert of ${name}`,
    );

  before(async () => {
    ({ manager, agent } = await startFleet(harness, tree));
  });

  after(async () => {
    await agent?.kill();
    await manager?.service.kill();
  });

  it('evicts the oldest copies first and says so', async () => {
    // One at a time, so the manager stores them oldest first: a, b, c, d.
    for (const name of ['a', 'b', 'c', 'd']) {
      writeFileSync(join(tree, name), content());
      await fileAlert(name, 'added');
    }
    writeFileSync(join(tree, 'a'), content());
    writeFileSync(join(tree, 'd'), content());
    assert.match(
      String((await fileAlert('a', 'modified')).syscheck.diff),
      /^diff not available: the earlier copy was evicted by the disk quota \(size 3001 -> 3001 bytes/,
    );
    assert.match(String((await fileAlert('d', 'modified')).syscheck.diff), /^@@ -1 \+1 @@\n-[0-9a-f]{3000}\n\+[0-9a-f]{3000}$/);
  });
});
