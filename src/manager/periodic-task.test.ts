import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { startPeriodicTask } from './periodic-task.js';

const capture = (): { lines: Record<string, unknown>[]; log: Logger } => {
  const lines: Record<string, unknown>[] = [];
  return { lines, log: pino({}, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) };
};

describe('startPeriodicTask', () => {
  it('runs at start when asked, keeps running after a failure (logged as an error), and stop() waits for a run', async () => {
    const { lines, log } = capture();
    let runs = 0;
    const task = startPeriodicTask(
      'demo check',
      5,
      async () => {
        runs++;
        if (runs === 1) throw new Error('store busy');
      },
      log,
      true,
    );
    while (runs < 3) await sleep(5);
    await task.stop();
    const stoppedAt = runs;
    await sleep(30);
    assert.equal(runs, stoppedAt, 'no run after stop');
    const failed = lines.filter((l) => l.msg === 'demo check failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.level, 50);
  });

  it('never runs two at a time: ticks during a slow run are skipped', async () => {
    const { log } = capture();
    let active = 0;
    let most = 0;
    let release = (): void => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const task = startPeriodicTask(
      'slow check',
      2,
      async () => {
        runs++;
        active++;
        most = Math.max(most, active);
        if (runs === 1) await slow;
        active--;
      },
      log,
      true,
    );
    await sleep(30);
    assert.equal(runs, 1, 'ticks while the first run waits are skipped');
    release();
    while (runs < 2) await sleep(2);
    await task.stop();
    assert.equal(most, 1);
  });
});
