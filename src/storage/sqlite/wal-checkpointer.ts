import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { siblingModule } from '../../platform/package-root.js';
import { startWorker } from '../../platform/start-worker.js';

/**
 * Checkpoints a WAL-mode SQLite file from a thread of its own. SQLite otherwise checkpoints inside the commit
 * that crosses `wal_autocheckpoint`, and that commit then writes every page a second time and waits for two
 * fsyncs: on the manager's ingest that was a third of the time. The writer keeps a high `wal_autocheckpoint` as
 * a backstop, should this thread fall behind or fail to start.
 */
export class WalCheckpointer {
  readonly #worker: Worker;

  constructor(path: string, intervalMs = 200) {
    this.#worker = startWorker(siblingModule(import.meta.url, 'checkpoint-worker'), { workerData: { path, intervalMs } });
    // A failure here only brings back SQLite's own checkpoints; it must never take the store down with it.
    this.#worker.on('error', () => undefined);
    this.#worker.unref();
  }

  /** Stops the thread (the closing writer connection then checkpoints what is left). */
  async stop(): Promise<void> {
    const exited = once(this.#worker, 'exit');
    this.#worker.postMessage('stop');
    const timeout = setTimeout(() => void this.#worker.terminate(), 5000);
    await exited;
    clearTimeout(timeout);
  }
}
