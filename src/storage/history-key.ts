import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { CustosError } from '../core/custos-error.js';

/** Shortest key taken: 128 bits, as text or bytes. */
const MIN_KEY_BYTES = 16;
/** Longest key file read: a key, not a file to stream. */
const MAX_KEY_BYTES = 4096;

/**
 * Reads the history key (`alerts.history_key`): a regular file, not reached through a symlink, owned by the user
 * running Custos (or root), readable by nobody else (mode 0600 or 0400), 16 to 4,096 bytes (surrounding
 * whitespace dropped, so `head -c 32 /dev/urandom | base64 > key` works). Anything else is refused naming the file
 * and what is wrong: a key others can read signs nothing they could not sign too.
 */
export function readHistoryKey(path: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'it is a symbolic link' : code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new CustosError('CONFIG_INVALID', `history key ${path}: ${why}`);
  }
  try {
    const st = fstatSync(fd);
    const refuse = (why: string): never => {
      throw new CustosError('CONFIG_INVALID', `refusing the history key ${path}: ${why}`);
    };
    if (!st.isFile()) refuse('it is not a regular file');
    const uid = process.geteuid?.();
    if (uid !== undefined && st.uid !== uid && st.uid !== 0) refuse(`it is owned by uid ${st.uid}, not by this user (uid ${uid}) or root`);
    if ((st.mode & 0o077) !== 0) refuse(`its group or others may use it (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}); run chmod 600 on it`);
    const buffer = Buffer.alloc(MAX_KEY_BYTES + 1);
    let length = 0;
    for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0;) length += n;
    if (length > MAX_KEY_BYTES) refuse(`it is longer than ${MAX_KEY_BYTES} bytes`);
    const key = Buffer.from(buffer.subarray(0, length).toString('latin1').trim(), 'latin1');
    if (key.length < MIN_KEY_BYTES) refuse(`it holds ${key.length} bytes; a key needs at least ${MIN_KEY_BYTES}`);
    return key;
  } finally {
    closeSync(fd);
  }
}
