import type { AnyAlert } from '../../core/build-alert.js';
import type { AlertSink } from '../alert-sink.js';
import { AppendOnlyFile, type CompleteUpTo } from './append-only-file.js';

/** A JSON-lines file is complete up to its last newline. */
const completeLines: CompleteUpTo = (tail, atFileStart) => {
  const end = tail.lastIndexOf(0x0a) + 1;
  // No newline in a stretch that is not the whole file: a record longer than the stretch; leave it be.
  return end === 0 && !atFileStart ? tail.length : end;
};

const jsonLine = (alert: AnyAlert): string => `${JSON.stringify(alert)}\n`;

/** Appends alerts to `alerts.json`, one JSON object per line, the format Wazuh and OSSEC pipelines ingest. */
export class JsonLinesAlertSink implements AlertSink {
  readonly #file: AppendOnlyFile;

  constructor(path: string) {
    this.#file = new AppendOnlyFile(path);
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    this.#file.append(alerts.map(jsonLine).join(''));
  }

  /** Cuts a line torn by a crash and appends the alerts whose id is not already in the file's last lines. */
  async redeliver(alerts: readonly AnyAlert[]): Promise<void> {
    this.#file.appendMissing(
      alerts.map((a) => ({ text: jsonLine(a), marker: `"id":${JSON.stringify(a.id)}` })),
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
