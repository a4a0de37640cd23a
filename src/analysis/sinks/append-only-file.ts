import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A file alerts are appended to (`O_APPEND`, created `0640`), written synchronously: a few kilobytes into the page
 * cache cost less than a trip through libuv's thread pool, and the manager applies batches one at a time, so an
 * asynchronous write would leave it idle while the next batch waits.
 */
export class AppendOnlyFile {
  readonly #path: string;
  #fd: number | undefined;

  constructor(path: string) {
    this.#path = path;
  }

  /** Appends the text whole (a short write is continued). */
  append(text: string): void {
    if (text === '') return;
    this.#fd ??= openSync(this.#path, 'a', 0o640);
    const bytes = Buffer.from(text);
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.#fd, bytes, offset);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
