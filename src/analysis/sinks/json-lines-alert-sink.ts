import type { AnyAlert } from '../../core/build-alert.js';
import { wazuhAlertJson, type WazuhJsonContext } from '../../core/wazuh-alert-json.js';
import type { AlertSink } from '../alert-sink.js';
import { AppendOnlyFile, type CompleteUpTo } from './append-only-file.js';

/** A JSON-lines file is complete up to its last newline. */
const completeLines: CompleteUpTo = (tail, atFileStart) => {
  const end = tail.lastIndexOf(0x0a) + 1;
  // No newline in a stretch that is not the whole file: a record longer than the stretch; leave it be.
  return end === 0 && !atFileStart ? tail.length : end;
};

/**
 * Appends alerts to `alerts.json`, one JSON object per line, the format Wazuh and OSSEC pipelines ingest: with a
 * context, in Wazuh's exact shape ({@link wazuhAlertJson}), else as built.
 */
export class JsonLinesAlertSink implements AlertSink {
  readonly #file: AppendOnlyFile;
  readonly #context: WazuhJsonContext | undefined;

  constructor(path: string, context?: WazuhJsonContext) {
    this.#file = new AppendOnlyFile(path);
    this.#context = context;
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    this.#file.append(alerts.map((a) => this.#line(a)).join(''));
  }

  #line(alert: AnyAlert): string {
    return `${JSON.stringify(this.#context === undefined ? alert : wazuhAlertJson(alert, this.#context))}\n`;
  }

  /** Cuts a line torn by a crash and appends the alerts whose id is not already in the file's last lines. */
  async redeliver(alerts: readonly AnyAlert[]): Promise<void> {
    this.#file.appendMissing(
      alerts.map((a) => ({ text: this.#line(a), marker: `"id":${JSON.stringify(a.id)}` })),
      completeLines,
    );
  }

  /** The next alert goes to a file opened by name again (after log rotation). */
  reopen(): void {
    this.#file.reopen();
  }

  async close(): Promise<void> {
    this.#file.close();
  }
}
