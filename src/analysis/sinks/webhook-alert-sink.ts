import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AnyAlert } from '../../core/build-alert.js';
import type { AlertSink } from '../alert-sink.js';
import type { SinkLog } from './syslog-alert-sink.js';

/** Where to POST alerts. */
export interface WebhookTarget {
  readonly url: string;
  /** PEM CA bundle an https endpoint's certificate must chain to (default: the system's). */
  readonly ca?: string;
  /** Extra headers, e.g. an Authorization token (never logged). */
  readonly headers?: Readonly<Record<string, string>>;
}

const MAX_ATTEMPTS = 8;
const MAX_QUEUE = 10_000;

/**
 * POSTs alerts as JSON (`{"alerts": [...]}`), in the background so the pipeline never waits, retrying failures
 * with exponential backoff (0.5 s doubling to 60 s, 8 attempts); a batch that still fails is logged and dropped
 * (the alerts stay in the store).
 */
export class WebhookAlertSink implements AlertSink {
  readonly #target: WebhookTarget;
  readonly #log: SinkLog;
  readonly #queue: AnyAlert[][] = [];
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(target: WebhookTarget, log: SinkLog) {
    this.#target = target;
    this.#log = log;
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    this.#queue.push([...alerts]);
    if (this.#queue.length > MAX_QUEUE) {
      this.#queue.shift();
      this.#log(`webhook ${redact(this.#target.url)}: queue full, dropped the oldest batch (its alerts remain in the store)`);
    }
    this.#sending ??= this.#drain().finally(() => {
      this.#sending = undefined;
    });
  }

  /** Waits (a little) for queued alerts to go out. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sending !== undefined) await Promise.race([this.#sending, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue[0] as AnyAlert[];
      let delay = 500;
      for (let attempt = 1; ; attempt++) {
        const error = await this.#post(batch);
        if (error === undefined) break;
        if (attempt >= MAX_ATTEMPTS || this.#closed) {
          this.#log(`webhook ${redact(this.#target.url)}: giving up on ${batch.length} alerts after ${attempt} attempts: ${error}`);
          break;
        }
        await new Promise((r) => setTimeout(r, delay).unref());
        delay = Math.min(delay * 2, 60_000);
      }
      this.#queue.shift();
    }
  }

  #post(alerts: readonly AnyAlert[]): Promise<string | undefined> {
    const body = JSON.stringify({ alerts });
    const url = new URL(this.#target.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve) => {
      const req = send(
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...(this.#target.headers ?? {}) },
          timeout: 10_000,
          ...(this.#target.ca === undefined ? {} : { ca: this.#target.ca }),
        },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          resolve(status >= 200 && status < 300 ? undefined : `HTTP ${status}`);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => resolve(e.message));
      req.end(body);
    });
  }
}

/** The URL without credentials or query, for logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}
