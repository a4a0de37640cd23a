import { closeSync, constants, openSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * Open flags for files root keeps beside a database it was pointed at (the known-hash caches and their logs): a
 * symlink planted where such a file goes must not lead root's write elsewhere (O_NOFOLLOW: ELOOP instead), and a
 * FIFO planted there must not block a read (O_NONBLOCK).
 */
export const READ_NO_FOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Create or truncate for writing, never through a symlink. */
export const WRITE_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** Append (created if missing), never through a symlink. */
export const APPEND_NO_FOLLOW = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** A whole file read without following a symlink (ELOOP) or blocking on a FIFO. */
export function readFileNoFollow(file: string): Buffer {
  const fd = openSync(file, READ_NO_FOLLOW);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A whole file written (created or truncated) without following a symlink. */
export function writeFileNoFollow(file: string, data: Uint8Array, mode: number): void {
  const fd = openSync(file, WRITE_NO_FOLLOW, mode);
  try {
    writeFileSync(fd, data);
  } finally {
    closeSync(fd);
  }
}
