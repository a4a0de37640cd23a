import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEFAULT_SCAN_THROTTLE } from '../core/config/scan-throttle-config.js';
import { compileScanScope } from '../core/scan-scope.js';
import { syscheckFor } from '../../test/support/scan-helpers.js';
import { tempDir } from '../../test/support/temp-dir.js';
import { HashPool } from './hash-pool.js';
import { readMountTable } from './mount-table.js';
import { CpuShareLimiter, RateLimiter } from './rate-limiter.js';
import { ScanPacer } from './scan-pacer.js';
import { createScanStats } from './scan-stats.js';
import { scanTree } from './scan-tree.js';
import { readUserNames } from './user-names.js';

/** A clock the test moves. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('RateLimiter', () => {
  it('asks for the wait that keeps units per second at the rate, and saves up at most a second', () => {
    const clock = manualClock();
    const limiter = new RateLimiter(100, clock.now);
    assert.equal(limiter.take(50), 500, '50 units at 100/s from an empty bucket: half a second');
    clock.advance(500);
    assert.equal(limiter.take(100), 1000);
    clock.advance(10_000);
    assert.equal(limiter.take(100), 0, 'ten idle seconds save up one second, not ten');
    assert.equal(limiter.take(1), 10);
    assert.equal(limiter.taken, 251);
    assert.equal(limiter.waitedMs, 1510);
  });

  it('refuses a rate that is not above 0', () => {
    assert.throws(() => new RateLimiter(0), RangeError);
  });
});

describe('CpuShareLimiter', () => {
  it('pauses for as long as brings the CPU time used back to the share of the wall time', () => {
    const clock = manualClock();
    let cpu = 0;
    // 25% of a 2-core machine: half a core.
    const limiter = new CpuShareLimiter(25, 2, () => cpu, clock.now);
    clock.advance(100);
    cpu += 50;
    assert.equal(limiter.pause(), 0, '50 ms of CPU in 100 ms is half a core: within');
    clock.advance(100);
    cpu += 150;
    assert.equal(limiter.pause(), 200, '200 ms used in 200 ms needs 400 ms of wall time: pause 200 ms');
    clock.advance(200);
    assert.equal(limiter.usedPercent(2), 25);
    assert.equal(limiter.pause(), 0);
  });
});

describe('ScanPacer on a real scan', () => {
  it('holds a scan to its files/s limit by its own accounting, and the scan still sees every file', async () => {
    const dir = tempDir();
    for (let i = 0; i < 100; i++) writeFileSync(join(dir, `f${i}`), `content ${i}`);
    const syscheck = syscheckFor([dir]);
    const pacer = new ScanPacer({ ...DEFAULT_SCAN_THROTTLE, filesPerSecond: 25 }, availableParallelism());
    const pool = new HashPool(2);
    const stats = createScanStats();
    const seen = new Set<string>();
    try {
      async function* empty(): AsyncGenerator<never> {}
      for await (const chunk of scanTree({
        scope: compileScanScope(syscheck),
        mounts: readMountTable(syscheck.skip),
        pool,
        names: readUserNames(),
        maxFileSizeBytes: syscheck.maxFileSizeBytes,
        rehash: false,
        cache: empty(),
        stats,
        pacer,
      })) {
        for (const o of chunk) seen.add(o.path.toString());
      }
    } finally {
      await pool.close();
    }
    assert.equal(seen.size, 101, 'every file and the directory itself');
    assert.equal(stats.hashed, 100);
    const pacing = pacer.pacing;
    assert.equal(pacing.files, 101, 'every entry the scan examined went through the limiter');
    assert.equal(
      pacing.bytes,
      [...Array(100).keys()].reduce((sum, i) => sum + `content ${i}`.length, 0),
    );
    // 101 entries at 25/s: at most one second's worth (25) is saved up before the scan starts, so the limiter
    // asked for waits, and never for more than 101 entries at 25/s (4,040 ms).
    assert.ok(pacing.rateWaitMs > 0 && pacing.rateWaitMs <= 4040, `waited ${pacing.rateWaitMs} ms`);
    assert.equal(pacing.cpuPauseMs, 0);
  });

  it('is off when no limit is set', () => {
    assert.equal(ScanPacer.limits(DEFAULT_SCAN_THROTTLE), false);
    assert.equal(ScanPacer.limits({ ...DEFAULT_SCAN_THROTTLE, cpuSharePercent: 25 }), true);
  });
});
