import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { CUSTOS_BIN, jsonLines, runCustos } from '../support/run-custos.js';
import { checkWorkspace } from '../support/check-workspace.js';

const NOBODY = 65534;
/** A round time to put back after an in-place overwrite, as an intruder restores mtime to the nanosecond. */
const STAMP = 1_700_000_000;

const workspace = checkWorkspace;

/** Writes `size` bytes of `fill` over the file in place (same inode, same size). */
function overwriteInPlace(path: string, fill: string, size: number): void {
  const fd = openSync(path, 'r+');
  try {
    const chunk = Buffer.alloc(1 << 20, fill);
    for (let at = 0; at < size; at += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
  } finally {
    closeSync(fd);
  }
}

describe('a file touched without end while the check reads it (issue 11, case 1)', () => {
  it('is alerted (rule 578) with the digests of what it holds now, never passed with the old digests', { timeout: 120_000 }, async () => {
    const ws = workspace();
    const target = join(ws.tree, 'sshd');
    const size = 48 << 20; // long enough to read that every read sees a utime land in the middle
    writeFileSync(target, Buffer.alloc(size, 'a'));
    utimesSync(target, STAMP, STAMP);
    const first = await runCustos(['check', ...ws.args]);
    assert.equal(first.code, 0, first.stderr);

    overwriteInPlace(target, 't', size);
    utimesSync(target, STAMP, STAMP);
    const trojan = createHash('sha256').update(readFileSync(target)).digest('hex');
    // The intruder keeps calling utime with the same time: only ctime moves, never mtime or size.
    const toucher = spawn(process.execPath, ['-e', `const fs = require('fs'); for (;;) fs.utimesSync(${JSON.stringify(target)}, ${STAMP}, ${STAMP});`], {
      stdio: 'ignore',
    });
    try {
      const second = await runCustos(['check', '--json', ...ws.args], { timeoutMs: 90_000 });
      assert.equal(second.code, 1, second.stderr);
      const alerts = jsonLines<Alert>(second.stdout);
      const unstable = alerts.find((a) => a.syscheck.path === target);
      assert.ok(unstable !== undefined, `no alert for ${target}: ${second.stdout}\n${second.stderr}`);
      assert.equal(String(unstable.rule.id), '578');
      assert.ok(unstable.rule.level >= 10);
      assert.equal(unstable.syscheck.sha256_after, trojan, 'the alert carries the digests of the last read');
      assert.ok(unstable.syscheck.changed_attributes?.includes('sha256'), JSON.stringify(unstable.syscheck));
      assert.ok(JSON.stringify(unstable.syscheck).includes('changed-while-hashed'));
      const stored = jsonLines<Alert>(readFileSync(join(ws.dir, 'alerts.json'), 'utf8'));
      assert.deepEqual(
        stored.map((a) => String(a.rule.id)),
        ['578'],
      );
    } finally {
      toucher.kill('SIGKILL');
    }
  });
});

describe('alert files an intruder plants as symlinks (issue 11, case 2)', () => {
  const plantedTarget = (dir: string): string => {
    const victim = join(dir, 'root-rc');
    writeFileSync(victim, '# root-owned file\n');
    return victim;
  };

  it('refuses a data directory an unprivileged user can write to, before writing anything', { timeout: 60_000 }, async () => {
    const ws = workspace();
    chmodSync(ws.dir, 0o755);
    const victim = plantedTarget(ws.dir);
    const data = join(ws.dir, 'data');
    mkdirSync(data);
    chownSync(data, NOBODY, NOBODY);
    const args = ['--config', join(ws.dir, 'custos.yml'), '--db', join(data, 'custos.db')];
    // Once, as root: the baseline exists and the next check would alert.
    chownSync(data, 0, 0);
    assert.equal((await runCustos(['check', ...args])).code, 0);
    chownSync(data, NOBODY, NOBODY);
    // The local user plants the link and a file whose name is a shell command.
    execFileSync('ln', ['-s', victim, join(data, 'alerts.json')], { uid: NOBODY, gid: NOBODY });
    writeFileSync(join(ws.tree, '$(id>PWNED)'), 'x');
    const run = await runCustos(['check', ...args]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /refusing to use (data|alert) directory .*data: it is owned by uid 65534/);
    assert.equal(readFileSync(victim, 'utf8'), '# root-owned file\n');
  });

  it('never appends through a symlink in a private data directory, and delivers once it is gone', { timeout: 60_000 }, async () => {
    const ws = workspace();
    const victim = plantedTarget(ws.dir);
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    symlinkSync(victim, join(ws.dir, 'alerts.json'));
    writeFileSync(join(ws.tree, '$(id>PWNED)'), 'x');
    const refused = await runCustos(['check', ...ws.args]);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /refusing to write alerts to .*alerts\.json: it is a symbolic link/);
    assert.equal(readFileSync(victim, 'utf8'), '# root-owned file\n');
    // A file someone else owns (planted in a directory they could once write to) is refused the same way.
    unlinkSync(join(ws.dir, 'alerts.json'));
    writeFileSync(join(ws.dir, 'alerts.json'), '');
    chownSync(join(ws.dir, 'alerts.json'), NOBODY, NOBODY);
    const foreign = await runCustos(['check', ...ws.args]);
    assert.equal(foreign.code, 3, foreign.stderr);
    assert.match(foreign.stderr, /alerts\.json: it is owned by uid 65534/);
    // The alert was kept: once the planted file is gone, the next check delivers it.
    unlinkSync(join(ws.dir, 'alerts.json'));
    const next = await runCustos(['check', ...ws.args]);
    assert.equal(next.code, 1, next.stderr);
    const alerts = jsonLines<Alert>(readFileSync(join(ws.dir, 'alerts.json'), 'utf8'));
    assert.deepEqual(
      alerts.map((a) => a.syscheck.path),
      [join(ws.tree, '$(id>PWNED)')],
    );
  });

  it('refuses a database directory writable by others', { timeout: 60_000 }, async () => {
    const ws = workspace();
    chmodSync(ws.dir, 0o777);
    const run = await runCustos(['check', ...ws.args]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /refusing to use (data|alert) directory .*: it is writable by others \(mode 0777\)/);
    assert.equal(existsSync(join(ws.dir, 'custos.db')), false);
  });
});

describe('two checks at once on one database (issue 11, case 7)', () => {
  it('alerts each new file once: the second waits for the first or refuses with a clear message', { timeout: 120_000 }, async () => {
    const ws = workspace();
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    for (let i = 0; i < 100; i++) writeFileSync(join(ws.tree, `new-${i}`), `file ${i}\n`);
    // A large new file keeps each scan busy long enough for the two to overlap.
    const big = openSync(join(ws.tree, 'big'), 'w');
    ftruncateSync(big, 512 << 20);
    closeSync(big);
    const runs = await Promise.all([runCustos(['check', ...ws.args], { timeoutMs: 90_000 }), runCustos(['check', ...ws.args], { timeoutMs: 90_000 })]);
    // One alerts; the other either waited and found nothing new (0) or refused (3).
    const codes = runs.map((r) => r.code).sort();
    assert.ok(['0,1', '1,3'].includes(codes.join()), runs.map((r) => `${r.code}: ${r.stderr}`).join('\n'));
    for (const run of runs) if (run.code === 3) assert.match(run.stderr, /another custos check or accept is running on .*custos\.db/);
    const alerts = jsonLines<Alert>(readFileSync(join(ws.dir, 'alerts.json'), 'utf8'));
    assert.equal(alerts.length, 101, `${alerts.length} alerts for 101 new files`);
    assert.equal(new Set(alerts.map((a) => a.syscheck.path)).size, 101);
  });
});

describe('a file system mounted over a monitored directory (issue 11, case 3)', () => {
  it('alerts a skipped type (sysfs) hiding a subtree (572) and a tmpfs or bind mount over a directory (579)', { timeout: 60_000 }, async () => {
    const ws = workspace();
    for (const sub of ['etc-ssh', 'bin', 'lib']) {
      mkdirSync(join(ws.tree, sub));
      writeFileSync(join(ws.tree, sub, 'file'), `${sub}\n`);
    }
    const decoy = join(ws.dir, 'decoy');
    mkdirSync(decoy);
    writeFileSync(join(decoy, 'file'), 'lib\n');
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    const mounted: string[] = [];
    try {
      execFileSync('mount', ['-t', 'sysfs', 'sysfs', join(ws.tree, 'etc-ssh')]);
      mounted.push(join(ws.tree, 'etc-ssh'));
      execFileSync('mount', ['-t', 'tmpfs', 'none', join(ws.tree, 'bin')]);
      mounted.push(join(ws.tree, 'bin'));
      execFileSync('mount', ['--bind', decoy, join(ws.tree, 'lib')]);
      mounted.push(join(ws.tree, 'lib'));
      const run = await runCustos(['check', '--json', ...ws.args]);
      assert.equal(run.code, 1, run.stderr);
      const alerts = jsonLines<{ rule: { id: number | string }; syscheck?: { path: string }; custos?: { path: string; reason: string } }>(run.stdout);
      const hidden = alerts.find((a) => String(a.rule.id) === '572');
      assert.equal(hidden?.custos?.path, join(ws.tree, 'etc-ssh'));
      assert.match(hidden?.custos?.reason ?? '', /skipped sysfs file system/);
      const replaced = alerts
        .filter((a) => String(a.rule.id) === '579')
        .map((a) => a.syscheck?.path)
        .sort();
      assert.deepEqual(replaced, [join(ws.tree, 'bin'), join(ws.tree, 'lib')]);
      // Every check says so again while the mount is there: skipping is never silent.
      const again = await runCustos(['check', '--json', ...ws.args]);
      assert.equal(again.code, 1, again.stderr);
      assert.ok(jsonLines<{ rule: { id: number | string } }>(again.stdout).some((a) => String(a.rule.id) === '572'));
    } finally {
      for (const point of mounted.reverse()) execFileSync('umount', [point]);
    }
  });
});

describe('a new file deeper than recursion_level (issue 11, case 4)', () => {
  it('alerts the first directory past the limit, with the reason', { timeout: 60_000 }, async () => {
    const ws = workspace();
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    const parts = Array.from({ length: 260 }, () => 'd');
    const deepest = join(ws.tree, ...parts);
    mkdirSync(deepest, { recursive: true });
    writeFileSync(join(deepest, 'implant'), 'x');
    const run = await runCustos(['check', '--json', ...ws.args]);
    assert.equal(run.code, 1, run.stderr);
    const alerts = jsonLines<Alert>(run.stdout);
    const firstPast = join(ws.tree, ...parts.slice(0, 257));
    const alert = alerts.find((a) => a.syscheck.path === firstPast);
    assert.ok(alert !== undefined, `no alert for the directory at depth 257: ${alerts.map((a) => a.syscheck.path.length).join()}`);
    assert.equal(String(alert.rule.id), '554');
    assert.match(JSON.stringify(alert.syscheck), /not entered: deeper than recursion_level 256/);
  });
});

describe('a database that lost its past (issue 11, case 5)', () => {
  it('an emptied database is refused, not taken for a first run, and verify says it is broken', { timeout: 60_000 }, async () => {
    const ws = workspace();
    writeFileSync(join(ws.tree, 'hosts'), 'a\n');
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    writeFileSync(join(ws.tree, 'implant'), 'x');
    assert.equal((await runCustos(['check', ...ws.args])).code, 1);
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(join(ws.dir, `custos.db${suffix}`))) unlinkSync(join(ws.dir, `custos.db${suffix}`));
    writeFileSync(join(ws.tree, 'second-implant'), 'y');
    const run = await runCustos(['check', ...ws.args]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /has lost its past: the last check left a baseline and 1 history records .*; the database now has no baseline and 0 records/);
    const verify = await runCustos(['verify', ...ws.args]);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(verify.stdout, /history BROKEN/);
  });

  it('records lost with the -wal of a killed check are reported, never re-alerted as new', { timeout: 120_000 }, async () => {
    const ws = workspace('  max_file_size: 8GiB\n');
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    // Walked first and slow to hash: the check is still busy with it after its first commit of 1,000 alerts.
    const big = openSync(join(ws.tree, '0-big'), 'w');
    ftruncateSync(big, 6 * 1024 ** 3);
    closeSync(big);
    for (let i = 0; i < 2500; i++) writeFileSync(join(ws.tree, `a-${String(i).padStart(4, '0')}`), `${i}\n`);
    const check = spawn(process.execPath, [CUSTOS_BIN, 'check', ...ws.args], { stdio: 'ignore' });
    const exited = new Promise((resolve) => check.on('exit', resolve));
    const alertsFile = join(ws.dir, 'alerts.json');
    const delivered = (): number => (existsSync(alertsFile) ? readFileSync(alertsFile, 'utf8').split('\n').length - 1 : 0);
    for (let waited = 0; delivered() < 1000 && waited < 60_000; waited += 20) await sleep(20);
    check.kill('SIGKILL');
    await exited;
    const committed = delivered();
    assert.ok(committed >= 1000 && committed < 2501, `${committed} alerts written before the kill`);
    unlinkSync(join(ws.dir, 'custos.db-wal'));
    if (existsSync(join(ws.dir, 'custos.db-shm'))) unlinkSync(join(ws.dir, 'custos.db-shm'));
    const run = await runCustos(['check', ...ws.args], { timeoutMs: 90_000 });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /has lost its past: .*committed records were lost/);
    assert.equal(delivered(), committed, 'nothing alerted twice');
    const verify = await runCustos(['verify', ...ws.args]);
    assert.equal(verify.code, 1, verify.stdout);
    assert.match(verify.stdout, /history BROKEN .*committed records were lost/);
  });
});

describe('standalone history rewritten by whoever can write the database (issue 11, case 6)', () => {
  it('verify --head finds a history re-chained after the head was copied off the host', { timeout: 60_000 }, async () => {
    const ws = workspace();
    writeFileSync(join(ws.tree, 'hosts'), 'a\n');
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    writeFileSync(join(ws.tree, 'implant'), 'x');
    const alerted = await runCustos(['check', ...ws.args]);
    assert.equal(alerted.code, 1);
    const head = /history head: record \d+, 1 records, chain hash ([0-9a-f]{64})/.exec(alerted.stderr)?.[1];
    assert.ok(head !== undefined, alerted.stderr);
    assert.equal((await runCustos(['verify', '--head', head, ...ws.args])).code, 0);
    // The intruder rewrites the record and re-chains it with the public chain function, head and marker included.
    const { default: Database } = await import('better-sqlite3');
    const { chainHash, GENESIS_HASH } = await import('../../src/core/event-record.js');
    const db = new Database(join(ws.dir, 'custos.db'));
    const row = db.prepare("SELECT id, data FROM events WHERE agent_id = '000'").get() as { id: number; data: string };
    const data = row.data.replace('alerted', 'recorded');
    const hash = chainHash(GENESIS_HASH, data);
    db.exec('DROP TRIGGER events_no_update');
    db.prepare('UPDATE events SET data = ?, outcome = ?, hash = ? WHERE id = ?').run(data, 'recorded', hash, row.id);
    db.prepare("UPDATE chain_heads SET last_hash = ? WHERE agent_id = '000'").run(hash);
    db.close();
    const marker = JSON.parse(readFileSync(join(ws.dir, 'custos.db.head'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(ws.dir, 'custos.db.head'), JSON.stringify({ ...marker, lastHash: hash }));
    const local = await runCustos(['verify', ...ws.args]);
    assert.equal(local.code, 0, `without a copy off the host the rewrite passes (documented): ${local.stdout}`);
    const offHost = await runCustos(['verify', '--head', head, ...ws.args]);
    assert.equal(offHost.code, 1, offHost.stdout);
    assert.match(offHost.stdout, /copied earlier is not in the history: it was rewritten/);
  });
});

describe('an interrupt while a large file is hashed (issue 11, case 10)', () => {
  it('SIGINT stops the check at once, not after the file is read', { timeout: 60_000 }, async () => {
    const ws = workspace('  max_file_size: 128GiB\n');
    assert.equal((await runCustos(['check', ...ws.args])).code, 0);
    // Sparse: reading it costs hashing time only, minutes of it.
    const big = openSync(join(ws.tree, 'huge'), 'w');
    ftruncateSync(big, 100 * 1024 ** 3);
    closeSync(big);
    const child = spawn(process.execPath, [CUSTOS_BIN, 'check', ...ws.args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await sleep(2000);
    child.kill('SIGINT');
    // A bound for a hang, not a measure of speed: on main the read runs on for minutes.
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await exited;
    clearTimeout(killer);
    assert.equal(code, 3, stderr);
    assert.match(stderr, /custos: interrupted/);
  });
});

describe('configuration bombs (issue 11, case 10)', () => {
  it('a YAML alias bomb and an XXE ossec.conf exit 2 naming the file and line', { timeout: 60_000 }, async () => {
    const ws = workspace();
    const bomb = join(ws.dir, 'bomb.yml');
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++)
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    writeFileSync(bomb, `syscheck:\n  directories:\n    - path: ${ws.tree}\n${levels.join('\n')}\n`);
    const yaml = await runCustos(['check', '--config', bomb, '--db', join(ws.dir, 'custos.db')]);
    assert.equal(yaml.code, 2, yaml.stderr);
    assert.match(yaml.stderr, new RegExp(`${bomb.replace(/[.]/g, '\\.')}:5`));
    const xxe = join(ws.dir, 'ossec.conf');
    writeFileSync(
      xxe,
      `<?xml version="1.0"?>\n<!DOCTYPE ossec_config [\n  <!ENTITY xxe SYSTEM "file:///etc/shadow">\n]>\n<ossec_config><syscheck><directories>&xxe;</directories></syscheck></ossec_config>\n`,
    );
    const xml = await runCustos(['check', '--config', xxe, '--db', join(ws.dir, 'custos.db')]);
    assert.equal(xml.code, 2, xml.stderr);
    assert.match(xml.stderr, /ossec\.conf:2.*DOCTYPE and ENTITY declarations are not allowed/);
  });
});
