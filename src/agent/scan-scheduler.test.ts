import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SyscheckConfig } from '../core/config/custos-config.js';
import { parseYamlConfig } from '../core/config/yaml-config.js';
import { ScanScheduler } from './scan-scheduler.js';

const syscheck = (yaml: string): SyscheckConfig => {
  const r = parseYamlConfig(yaml, 'custos.yml', { dataDir: '/var/lib/custos', hostname: 'h' });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value.config.syscheck;
};

describe('ScanScheduler', () => {
  const hourly = syscheck('syscheck:\n  frequency: 1h\n');
  const now = Date.parse('2026-11-30T12:00:00Z');

  it('waits a frequency from the last scan end, at least a second, and at most what a timer can hold', () => {
    const delay = (last: number | undefined, config = hourly): number =>
      new ScanScheduler({ lastScanEnd: () => last, syscheck: () => config, scan: async () => {}, now: () => now }).delayMs();
    assert.equal(delay(now - 10 * 60_000), 50 * 60_000);
    assert.equal(delay(undefined), 1000, 'never scanned: now (after a second)');
    assert.equal(delay(now - 5 * 3_600_000), 1000, 'overdue: now');
    assert.equal(delay(now, syscheck('syscheck:\n  frequency: 90d\n')), 2 ** 31 - 1);
  });

  it('reads the settings for every scan (a central configuration may change them)', () => {
    let config = hourly;
    const scheduler = new ScanScheduler({ lastScanEnd: () => now, syscheck: () => config, scan: async () => {}, now: () => now });
    assert.equal(scheduler.delayMs(), 3_600_000);
    config = syscheck('syscheck:\n  frequency: 2h\n');
    assert.equal(scheduler.delayMs(), 7_200_000);
  });

  it('scans, schedules the next after it ended (even after a failed one), and stops on close', async () => {
    let scans = 0;
    let last: number | undefined;
    const scheduler = new ScanScheduler({
      lastScanEnd: () => last,
      syscheck: () => hourly,
      scan: async () => {
        scans++;
        last = Date.now() - 3_600_000; // due again at once (after the one-second floor)
        if (scans === 1) throw new Error('scan failed');
      },
    });
    scheduler.startWithScan();
    while (scans < 2) await sleep(50);
    scheduler.close();
    const stopped = scans;
    await sleep(1300);
    assert.equal(scans, stopped, 'no scan after close');
  });
});
