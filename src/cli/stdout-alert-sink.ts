import type { AlertSink } from '../analysis/alert-sink.js';
import { formatOssecAlert } from '../analysis/sinks/format-ossec-alert.js';
import type { AnyAlert } from '../core/build-alert.js';

/** Prints alerts as they are committed: JSON lines with `--json`, else OSSEC's `alerts.log` layout. */
export class StdoutAlertSink implements AlertSink {
  readonly #json: boolean;
  readonly #hostname: string;

  constructor(json: boolean, hostname: string) {
    this.#json = json;
    this.#hostname = hostname;
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    for (const alert of alerts) {
      process.stdout.write(this.#json ? `${JSON.stringify(alert)}\n` : formatOssecAlert(alert, this.#hostname));
    }
  }

  async close(): Promise<void> {}
}
