import { closeSync, fstatSync, ftruncateSync, readSync, writeSync } from 'node:fs';
import { openOwnedFile } from './open-owned-file.js';

/** One record for `AppendOnlyFile.appendMissing`: its text, and a string found in the file only if it was written. */
export interface FileRecord {
  readonly text: string;
  readonly marker: string;
}

/**
 * Where the complete records in the last stretch of a file end (an offset into `tail`); `atFileStart` says the
 * stretch is the whole file. A crash can cut a write anywhere, so everything after that offset is a torn record.
 */
export type CompleteUpTo = (tail: Buffer, atFileStart: boolean) => number;

// Room for a torn record besides the ones being checked.
const TORN_SLACK = 1 << 20;
const MAX_TAIL = 256 << 20;

/**
 * A file alerts are appended to (`O_APPEND`, created `0640`, never through a symlink: see {@link openOwnedFile}), written synchronously: a few kilobytes into the page
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
    this.#fd ??= openOwnedFile(this.#path, 'append');
    const bytes = Buffer.from(text);
    for (let offset = 0; offset < bytes.length;) offset += writeSync(this.#fd, bytes, offset);
  }

  /**
   * Appends the records a crashed run may or may not have written: first cuts off a half-written last record, then
   * appends, in order, each record whose marker is not in the end of the file. Records a run wrote are always the
   * last thing in the file, so only its end (as long as the records, plus room for a torn one) is read.
   */
  appendMissing(records: readonly FileRecord[], completeUpTo: CompleteUpTo): void {
    let tail: Buffer = Buffer.alloc(0);
    const fd = openOwnedFile(this.#path, 'repair');
    if (fd !== undefined) {
      try {
        const size = fstatSync(fd).size;
        const want = Math.min(
          size,
          MAX_TAIL,
          records.reduce((sum, r) => sum + Buffer.byteLength(r.text), TORN_SLACK),
        );
        tail = Buffer.alloc(want);
        for (let got = 0; got < want;) {
          const n = readSync(fd, tail, got, want - got, size - want + got);
          if (n === 0) break;
          got += n;
        }
        const end = completeUpTo(tail, want === size);
        if (end < tail.length) {
          ftruncateSync(fd, size - want + end);
          tail = tail.subarray(0, end);
        }
      } finally {
        closeSync(fd);
      }
    }
    this.append(
      records
        .filter((r) => !tail.includes(r.marker))
        .map((r) => r.text)
        .join(''),
    );
  }

  /** Lets go of the open file: the next append opens the path again (a rotated file is left to its new name). */
  reopen(): void {
    this.close();
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
