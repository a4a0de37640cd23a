import { open, type FileHandle } from 'node:fs/promises';
import type { AnyAlert } from '../../core/build-alert.js';
import type { AlertSink } from '../alert-sink.js';

/** Appends alerts to `alerts.json`, one JSON object per line, the format Wazuh and OSSEC pipelines ingest. */
export class JsonLinesAlertSink implements AlertSink {
  readonly #path: string;
  #file: FileHandle | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    this.#file ??= await open(this.#path, 'a', 0o640);
    await this.#file.appendFile(alerts.map((a) => `${JSON.stringify(a)}\n`).join(''));
  }

  async close(): Promise<void> {
    await this.#file?.close();
    this.#file = undefined;
  }
}
