import type { AnyAlert } from '../../core/build-alert.js';
import type { AlertSink } from '../alert-sink.js';
import { AppendOnlyFile } from './append-only-file.js';

/** Appends alerts to `alerts.json`, one JSON object per line, the format Wazuh and OSSEC pipelines ingest. */
export class JsonLinesAlertSink implements AlertSink {
  readonly #file: AppendOnlyFile;

  constructor(path: string) {
    this.#file = new AppendOnlyFile(path);
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    this.#file.append(alerts.map((a) => `${JSON.stringify(a)}\n`).join(''));
  }

  async close(): Promise<void> {
    this.#file.close();
  }
}
