import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ConsoleQueries, LiveCursor } from '../../storage/console-queries.js';
import { alertView } from './api-views.js';

/** A browser listening for new alerts, and how to tell whether its session still holds. */
interface Listener {
  readonly response: ServerResponse;
  readonly stillValid: () => Promise<boolean>;
}

/**
 * New alerts for every open console, as server-sent events. One poll of the store a second serves all listeners
 * (and only while there are any): it reads what was committed, so alerts written by another manager process
 * sharing the store show up too. A listener whose session ended is disconnected at the next heartbeat.
 */
export class LiveAlerts {
  readonly #queries: ConsoleQueries;
  readonly #logger: Logger;
  readonly #listeners = new Set<Listener>();
  readonly #pollMs: number;
  #cursor: LiveCursor | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polls = 0;
  #busy = false;

  constructor(queries: ConsoleQueries, logger: Logger, pollMs = 1000) {
    this.#queries = queries;
    this.#logger = logger;
    this.#pollMs = pollMs;
  }

  /** Starts streaming to a response whose headers are not sent yet. */
  async add(response: ServerResponse, stillValid: () => Promise<boolean>): Promise<void> {
    if (this.#listeners.size === 0) this.#cursor = await this.#queries.liveCursor();
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Proxies must not hold events back.
      'x-accel-buffering': 'no',
    });
    response.write('retry: 3000\n: connected\n\n');
    const listener = { response, stillValid };
    this.#listeners.add(listener);
    response.on('close', () => this.#listeners.delete(listener));
    this.#timer ??= setInterval(() => void this.#poll(), this.#pollMs);
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  async #poll(): Promise<void> {
    if (this.#listeners.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#busy || this.#cursor === undefined) return;
    this.#busy = true;
    try {
      // At most 500 an instant; the rest go at the next polls, in order.
      const { alerts, cursor } = await this.#queries.alertsAfter(this.#cursor, 500);
      this.#cursor = cursor;
      const frames = alerts.map((alert) => `event: alert\ndata: ${JSON.stringify(alertView(alert))}\n\n`).join('');
      const heartbeat = ++this.#polls % 15 === 0;
      for (const listener of this.#listeners) {
        if (heartbeat && !(await listener.stillValid())) {
          listener.response.end('event: signed-out\ndata: {}\n\n');
          this.#listeners.delete(listener);
          continue;
        }
        if (frames !== '') listener.response.write(frames);
        else if (heartbeat) listener.response.write(': keep-alive\n\n');
      }
    } catch (error) {
      this.#logger.error({ err: error }, 'console live alerts: poll failed');
    } finally {
      this.#busy = false;
    }
  }

  /** Ends every stream (the manager is closing). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const listener of this.#listeners) listener.response.end();
    this.#listeners.clear();
  }
}
