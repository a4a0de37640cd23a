import type { AnyAlert } from '../../core/build-alert.js';
import type { AlertSink } from '../alert-sink.js';
import { AppendOnlyFile } from './append-only-file.js';
import { formatOssecAlert } from './format-ossec-alert.js';

/** Appends alerts to an OSSEC-style `alerts.log`, which existing log shippers and `<match>` habits expect. */
export class OssecLogAlertSink implements AlertSink {
  readonly #file: AppendOnlyFile;
  readonly #hostname: string;

  constructor(path: string, hostname: string) {
    this.#file = new AppendOnlyFile(path);
    this.#hostname = hostname;
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    this.#file.append(alerts.map((a) => formatOssecAlert(a, this.#hostname)).join(''));
  }

  async close(): Promise<void> {
    this.#file.close();
  }
}
