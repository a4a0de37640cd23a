import type { AlertSink } from '../analysis/alert-sink.js';
import { formatOssecAlert } from '../analysis/sinks/format-ossec-alert.js';
import type { AnyAlert } from '../core/build-alert.js';
import { wazuhAlertJson, type WazuhJsonContext } from '../core/wazuh-alert-json.js';

/** Prints alerts as they are committed: JSON lines with `--json`, else OSSEC's `alerts.log` layout. */
export class StdoutAlertSink implements AlertSink {
  readonly #json: boolean;
  readonly #hostname: string;
  readonly #context: WazuhJsonContext | undefined;

  /** With a context, JSON lines are `alerts.json`'s (Wazuh's shape). */
  constructor(json: boolean, hostname: string, context?: WazuhJsonContext) {
    this.#json = json;
    this.#hostname = hostname;
    this.#context = context;
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    for (const alert of alerts) {
      const shown = this.#context === undefined ? alert : wazuhAlertJson(alert, this.#context);
      process.stdout.write(this.#json ? `${JSON.stringify(shown)}\n` : formatOssecAlert(alert, this.#hostname));
    }
  }

  async close(): Promise<void> {}
}
