import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { siblingModule } from '../platform/package-root.js';
import { startWorker } from '../platform/start-worker.js';

/**
 * A thread that builds and saves a known-hash database's Bloom filters and digest index (`known-hash-cache-worker`),
 * so a manager that finds none current starts listening at once: at 100M rows the build reads every row, minutes
 * with the event loop blocked if done in the main thread. It holds the filters (188 MB at 100M rows) and the index's
 * directory while it builds, on top of the reader's own copy once taken up.
 */
export class CacheBuilder {
  readonly #worker: Worker;
  readonly done: Promise<void>;
  #running = true;

  /** Starts the build; `onDone` is called when the thread ended (built, or failed: the reader then asks SQLite still). */
  constructor(path: string, what: { readonly bloom: boolean; readonly digestIndex: boolean }, onDone: () => void) {
    this.#worker = startWorker(siblingModule(import.meta.url, 'known-hash-cache-worker'), { workerData: { path, ...what } });
    this.#worker.unref();
    this.done = once(this.#worker, 'exit').then(
      () => undefined,
      () => undefined,
    );
    // A failed build leaves the reader on SQL, as before it started; it is asked for again after a while.
    this.#worker.on('error', () => undefined);
    void this.done.then(() => {
      this.#running = false;
      onDone();
    });
  }

  /** Waits for the thread to end, keeping the process alive meanwhile (it is otherwise not waited for). */
  async wait(): Promise<void> {
    this.#worker.ref();
    await this.done;
  }

  /** True until the thread exits. */
  get running(): boolean {
    return this.#running;
  }

  /** Stops a build still running (the store is closing); its half-written files are never renamed into place. */
  async stop(): Promise<void> {
    if (!this.#running) return;
    await this.#worker.terminate();
    await this.done;
  }
}
