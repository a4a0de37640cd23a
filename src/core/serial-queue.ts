/**
 * Runs work one piece at a time, first come first served: each piece starts only after the one before it settled
 * (fulfilled or rejected). A failure is the failing caller's to handle; it never stops the queue. Pure: no I/O,
 * no timers, so the manager (batches and package reports that must not interleave) and the agent (scans, resets)
 * share it.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Queues `work` behind everything queued before it; resolves or rejects with its outcome. */
  run<T>(work: () => Promise<T>): Promise<T> {
    this.#pending++;
    const next = this.#tail.then(work, work).finally(() => {
      this.#pending--;
    });
    // The queue itself never rejects: the next piece runs whatever this one did.
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Pieces queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Resolves once everything queued so far has settled. */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
