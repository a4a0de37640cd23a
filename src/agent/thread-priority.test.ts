import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileScanScope } from '../core/scan-scope.js';
import { syscheckFor } from '../../test/support/scan-helpers.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { HashPool } from './hash-pool.js';
import { readMountTable } from './mount-table.js';
import { threadedWalk } from './threaded-walk.js';

/** Nice value and `ionice` verdict of each thread of this process, by thread id. */
function threadPriorities(): { tid: string; nice: number; io: string }[] {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name: state is field 3, nice field 19 of the whole line.
    const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    const io = execFileSync('ionice', ['-p', tid], { encoding: 'utf8' }).trim();
    return { tid, nice, io };
  });
}

const SCAN_PRIORITY = { nice: 7, io: { ioClass: 'idle', level: 0 } } as const;

describe('scan thread priorities', () => {
  it('hashing workers run at the configured nice value and I/O class; the thread that started them keeps its own', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'x');
    const mine = threadPriorities();
    const pool = new HashPool(2, { priority: SCAN_PRIORITY });
    try {
      // Two batches at once: both workers start.
      await Promise.all([pool.hash([Buffer.from(join(dir, 'f'))], ['sha256'], 1 << 20), pool.hash([Buffer.from(join(dir, 'f'))], ['sha256'], 1 << 20)]);
      assert.equal(pool.threads, 2);
      const known = new Set(mine.map((t) => t.tid));
      const started = threadPriorities().filter((t) => !known.has(t.tid));
      const scanThreads = started.filter((t) => t.nice === 7);
      assert.equal(scanThreads.length, 2, JSON.stringify(started));
      for (const t of scanThreads) assert.equal(t.io, 'idle');
      assert.equal(
        threadPriorities().find((t) => t.tid === String(process.pid))?.nice,
        mine.find((t) => t.tid === String(process.pid))?.nice,
        'the main thread is not reniced',
      );
    } finally {
      await pool.close();
    }
  });

  it('a released pool ends its workers and starts them again, at the priority asked for then', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'x');
    let nice = 5;
    const pool = new HashPool(1, { priority: () => ({ nice, io: { ioClass: 'best-effort', level: 6 } }) });
    try {
      const before = new Set(threadPriorities().map((t) => t.tid));
      await pool.hash([Buffer.from(join(dir, 'f'))], ['md5'], 1 << 20);
      assert.deepEqual(
        threadPriorities()
          .filter((t) => !before.has(t.tid) && t.nice === 5)
          .map((t) => t.io),
        ['best-effort: prio 6'],
      );
      await pool.release();
      assert.equal(pool.threads, 0);
      nice = 9;
      const result = await pool.hash([Buffer.from(join(dir, 'f'))], ['md5'], 1 << 20);
      assert.equal(result[0]?.ok && result[0].hashes.md5, execFileSync('md5sum', [join(dir, 'f')], { encoding: 'utf8' }).split(' ')[0]);
      assert.equal(threadPriorities().filter((t) => !before.has(t.tid) && t.nice === 9).length, 1);
    } finally {
      await pool.close();
    }
  });

  it('the walk thread runs at the configured nice value and I/O class while it walks', async () => {
    const dir = tempDir();
    for (let i = 0; i < 3000; i++) writeFileSync(join(dir, `f${i}`), '');
    const syscheck = syscheckFor([dir]);
    const before = new Set(threadPriorities().map((t) => t.tid));
    let seen: { nice: number; io: string }[] | undefined;
    let items = 0;
    for (const item of threadedWalk(compileScanScope(syscheck), { mounts: readMountTable(syscheck.skip) }, SCAN_PRIORITY)) {
      if (item.kind === 'wait') {
        await item.until;
        continue;
      }
      items++;
      // Halfway through, the thread is alive and walking.
      if (items === 1500) seen = threadPriorities().filter((t) => !before.has(t.tid) && t.nice === 7);
    }
    assert.equal(items, 3001);
    assert.deepEqual(
      seen?.map((t) => t.io),
      ['idle'],
    );
  });
});
