import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerialQueue } from './serial-queue.js';

/** A promise and the functions that settle it, for ordering work by hand. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('SerialQueue', () => {
  it('never starts a piece before the one before it settled, even when the first waits longest', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    const first = gate();
    const a = queue.run(async () => {
      log.push('a start');
      await first.promise;
      log.push('a end');
      return 'a';
    });
    const b = queue.run(async () => {
      log.push('b start');
      return 'b';
    });
    await Promise.resolve();
    assert.deepEqual(log, ['a start']);
    assert.equal(queue.pending, 2);
    first.open();
    assert.deepEqual(await Promise.all([a, b]), ['a', 'b']);
    assert.deepEqual(log, ['a start', 'a end', 'b start']);
    assert.equal(queue.pending, 0);
  });

  it('gives a failure to its caller only, and runs the next piece', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(async () => {
      throw new Error('boom');
    });
    const next = queue.run(async () => 42);
    await assert.rejects(failed, /boom/);
    assert.equal(await next, 42);
  });

  it('idle() waits for everything queued so far, failures included', async () => {
    const queue = new SerialQueue();
    const done: number[] = [];
    const slow = gate();
    void queue.run(async () => {
      await slow.promise;
      done.push(1);
    });
    void queue.run(async () => Promise.reject(new Error('ignored here'))).catch(() => undefined);
    const idle = queue.idle();
    slow.open();
    await idle;
    assert.deepEqual(done, [1]);
  });
});
