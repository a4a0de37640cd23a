import type { AnyAlert } from '../../core/build-alert.js';
import type { AlertSink } from '../alert-sink.js';
import { AppendOnlyFile, type CompleteUpTo } from './append-only-file.js';
import { formatOssecAlert } from './format-ossec-alert.js';

const BLOCK_START = '** Alert ';

/** Every alert block ends with a blank line; a torn one is cut back to where its `** Alert` header starts. */
const completeBlocks: CompleteUpTo = (tail, atFileStart) => {
  if (tail.length === 0 || tail.subarray(-2).equals(Buffer.from('\n\n'))) return tail.length;
  const next = tail.lastIndexOf(`\n\n${BLOCK_START}`);
  if (next >= 0) return next + 2;
  return atFileStart && tail.subarray(0, BLOCK_START.length).toString() === BLOCK_START ? 0 : tail.length;
};

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

  /** Cuts a block torn by a crash and appends the alerts whose `** Alert <id>:` header is not already at the end. */
  async redeliver(alerts: readonly AnyAlert[]): Promise<void> {
    this.#file.appendMissing(
      alerts.map((a) => ({ text: formatOssecAlert(a, this.#hostname), marker: `${BLOCK_START}${a.id}:` })),
      completeBlocks,
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
