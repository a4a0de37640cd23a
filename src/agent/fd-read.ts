import { nativeFsAttrs } from './native-fs-attrs.js';
import { packedStat, STAT_FIELDS, type StatSnapshot } from './packed-stat.js';

/** A file the addon opened and read (see {@link openAndRead}): its descriptor, still open, and the bytes read. */
export interface OpenedFile {
  readonly fd: number;
  readonly bytes: number;
}

interface FdRead {
  readonly openRead: (path: Buffer, buffer: Uint8Array, want: number, out: Int32Array) => number;
  readonly statClose: (fd: number, numbers: Float64Array, times: BigInt64Array) => number;
}

let native: FdRead | null | undefined;
// Reused by every call: a hashing worker hashes one file at a time.
const io = new Int32Array(2);
const numbers = new Float64Array(STAT_FIELDS);
const times = new BigInt64Array(2);

/**
 * True when the addon can open-and-read and stat-and-close (see `native/fs-attrs/fd_read.c`): the hashing worker's
 * fast path for small files. Without the addon, or with one built before these existed, the worker reads through
 * `fs` as before.
 */
export function fastReadAvailable(): boolean {
  native ??= load();
  return native !== null;
}

/**
 * Opens `path` as the hashing worker does and reads until `want` bytes (at most the buffer's length) are in `buffer`
 * or the file ends. `undefined` when it could not be opened or read (nothing is left open): the caller's careful
 * path opens it again and reports why. Call {@link statAndClose} on what it returns.
 */
export function openAndRead(path: Buffer, buffer: Buffer, want: number): OpenedFile | undefined {
  native ??= load();
  if (native === null || native.openRead(path, buffer, want, io) !== 0) return undefined;
  return { fd: io[0] as number, bytes: io[1] as number };
}

/** The stat data of a file {@link openAndRead} opened, as `fstat` gives it, and the file closed; `undefined` when `fstat` failed. */
export function statAndClose(fd: number): StatSnapshot | undefined {
  native ??= load();
  if (native === null) throw new Error('statAndClose without the addon: openAndRead opened nothing');
  return native.statClose(fd, numbers, times) === 0 ? packedStat(numbers, times, 0) : undefined;
}

function load(): FdRead | null {
  try {
    const addon = nativeFsAttrs();
    if (addon.openRead === undefined || addon.statClose === undefined) return null;
    return { openRead: addon.openRead.bind(addon), statClose: addon.statClose.bind(addon) };
  } catch {
    return null;
  }
}
