import { closeSync, openSync, readSync } from 'node:fs';
import { READ_NO_FOLLOW } from './no-follow-flags.js';

/**
 * The first `bytes` bytes of a file (a header read without the rest), or undefined when the file cannot be opened
 * or is shorter. Saved caches beside a database (filters, indexes) are told apart by their headers this way.
 */
export function readFileStart(file: string, bytes: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, READ_NO_FOLLOW);
  } catch {
    return undefined;
  }
  try {
    const start = Buffer.alloc(bytes);
    return readSync(fd, start, 0, bytes, 0) === bytes ? start : undefined;
  } finally {
    closeSync(fd);
  }
}
