import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { CustosError } from '../../core/custos-error.js';

// O_NOFOLLOW: a symlink planted where an alert file goes must not lead root's write elsewhere. O_NONBLOCK: a FIFO
// planted there must not block the open (it is refused below). O_NOCTTY: never acquire a terminal.
const SAFE = constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** How an alert file is opened: appending (created when missing) or read-write to repair its end. */
export type OwnedFileMode = 'append' | 'repair';

/**
 * Opens a file Custos writes alerts to, never through a symlink, and only if it is a regular file owned by the
 * user writing it with no other hard link: whoever can plant a link there must not make the writer (often root)
 * append to a file of their choosing. Returns the descriptor, or `undefined` when `repair` finds no file.
 */
export function openOwnedFile(path: string, mode: 'append'): number;
export function openOwnedFile(path: string, mode: 'repair'): number | undefined;
export function openOwnedFile(path: string, mode: OwnedFileMode): number | undefined {
  const flags = mode === 'append' ? constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | SAFE : constants.O_RDWR | SAFE;
  let fd: number;
  try {
    fd = openSync(path, flags, 0o640);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && mode === 'repair') return undefined;
    if (code === 'ELOOP') throw refused(path, 'it is a symbolic link');
    if (code === 'ENXIO') throw refused(path, 'it is a FIFO');
    throw error;
  }
  try {
    const st = fstatSync(fd);
    const uid = process.geteuid?.() ?? st.uid;
    if (!st.isFile()) throw refused(path, 'it is not a regular file');
    if (st.uid !== uid) throw refused(path, `it is owned by uid ${st.uid}, not by the user writing alerts (uid ${uid})`);
    if (st.nlink > 1) throw refused(path, `it has ${st.nlink} hard links`);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function refused(path: string, why: string): CustosError {
  return new CustosError(
    'STORE_FAILED',
    `refusing to write alerts to ${path}: ${why}; someone may have planted it there (remove it, and check who can write to its directory)`,
  );
}
