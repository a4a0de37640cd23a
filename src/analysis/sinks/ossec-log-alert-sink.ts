import { open, type FileHandle } from 'node:fs/promises';
import type { AnyAlert } from '../../core/build-alert.js';
import type { AlertSink } from '../alert-sink.js';
import { formatOssecAlert } from './format-ossec-alert.js';

/** Appends alerts to an OSSEC-style `alerts.log`, which existing log shippers and `<match>` habits expect. */
export class OssecLogAlertSink implements AlertSink {
  readonly #path: string;
  readonly #hostname: string;
  #file: FileHandle | undefined;

  constructor(path: string, hostname: string) {
    this.#path = path;
    this.#hostname = hostname;
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    if (alerts.length === 0) return;
    this.#file ??= await open(this.#path, 'a', 0o640);
    await this.#file.appendFile(alerts.map((a) => formatOssecAlert(a, this.#hostname)).join(''));
  }

  async close(): Promise<void> {
    await this.#file?.close();
    this.#file = undefined;
  }
}
