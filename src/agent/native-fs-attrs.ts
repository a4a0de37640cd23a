import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { packagePath } from '../platform/package-root.js';

/** The native addon in `native/fs-attrs` (built by `npm ci` / `npm run build:native`). */
export interface NativeFsAttrs {
  /** `[errno, names, values]`: every extended attribute of the entry itself (a value is an errno when unreadable). */
  listAttributes(path: Buffer): [number, Buffer[], (Buffer | number)[]];
  /** The entry's `FS_IOC_GETFLAGS` bits, or `-errno`. */
  inodeFlags(path: Buffer): number;
  /** ioprio_set for the calling thread: class 1 realtime, 2 best-effort, 3 idle, level 0-7; 0 or `-errno`. */
  setIoPriority(ioClass: number, level: number): number;
  /** The calling thread's I/O priority (`class << 13 | level`), or `-errno`. */
  ioPriority(): number;
  /** `malloc_trim(0)`: returns the free memory of every malloc arena to the system; 1 if some was released. */
  trimHeap(): number;
  /**
   * V8's collection under critical memory pressure: everything collectable, with compaction, and the empty pages,
   * spare young-generation space and page pools given back (a plain `gc()` keeps them for the next allocations).
   */
  reduceHeap(): void;
  /**
   * `mallopt(M_ARENA_MAX, n)`: threads that allocate from now on share at most `n` malloc arenas; 1 when set.
   * Optional: an addon built before it was added lacks it.
   */
  limitArenas?(n: number): number;
  /**
   * The resident pages of the node binary's private, read-only mappings (its code and read-only data) that hold only
   * the file's own bytes given back with `MADV_DONTNEED`: what the kernel may drop at any time, dropped now. `mappings` released, `bytes` of them resident before. Optional: an addon
   * built before it was added lacks it.
   */
  releaseFilePages?(): { mappings: number; bytes: number };
  /**
   * A new inotify instance read on the event loop (no thread waits on it), or `-errno`. `onEvents` gets the raw
   * `struct inotify_event` records the kernel queued, or `null` and an errno when reading failed.
   */
  inotifyOpen(onEvents: (events: Buffer | null, errno: number) => void): InotifyHandle | number;
  /** inotify_add_watch on a byte path: the watch descriptor, or `-errno`. */
  inotifyAddWatch(handle: InotifyHandle, path: Buffer, mask: number): number;
  /** inotify_rm_watch: 0 or `-errno`. */
  inotifyRemoveWatch(handle: InotifyHandle, wd: number): number;
  /** Stops reading and closes the instance, with every watch it had. */
  inotifyClose(handle: InotifyHandle): void;
  /**
   * A directory's entries but `.` and `..`, sorted by name bytes, each with its `lstat` data: the names packed one
   * after another (entry i ends at `ends[i]`), per entry size, mode (permission bits), uid, gid, inode, dev, nlink
   * and format (`S_IFMT` bits) in `numbers`, mtime and ctime in ns in `times`, and 0 or the errno its `lstat`
   * failed with in `errors`. `-errno` when the directory cannot be opened or read. Optional: an addon built
   * before it was added lacks it. All five are views into one ArrayBuffer (an older build: names a Buffer).
   */
  readDirectory?(path: Buffer): number | [names: Uint8Array, ends: Uint32Array, numbers: Float64Array, times: BigInt64Array, errors: Int32Array];
  /** The entry's ctime in ns (`lstat`: never a symlink's target), or `-errno`. Optional, as `readDirectory`. */
  ctimeOf?(path: Buffer): bigint | number;
  /**
   * `[errno, names, values, flags]`: `listAttributes` and (with `withFlags`) `inodeFlags` of an open file, read
   * through its descriptor; `flags` is -1 when not asked for. Optional, as `readDirectory`.
   */
  fdAttributes?(fd: number, withFlags: boolean): [number, Buffer[], (Buffer | number)[], number];
  /**
   * Opens a file to hash it (the hashing worker's flags: no symlink followed, no blocking on a FIFO) and reads until
   * `want` bytes are in `buffer` or the file ends: 0 with `out[0]` the descriptor (left open for `statClose`) and
   * `out[1]` the bytes read, or `-errno` with nothing left open. Optional, as `readDirectory`.
   */
  openRead?(path: Buffer, buffer: Uint8Array, want: number, out: Int32Array): number;
  /**
   * The stat data of an open file, as `fs.fstatSync` gives it, into `numbers` (the walk's packed layout, see
   * `packedStat`) and `times` (mtime, ctime in ns), then the descriptor closed whatever happened: 0 or `-errno`.
   * Optional, as `readDirectory`.
   */
  statClose?(fd: number, numbers: Float64Array, times: BigInt64Array): number;
}

/** An open inotify instance of the addon (opaque). */
export type InotifyHandle = { readonly __inotify: unique symbol };

// dist/src/agent/ → the package root, where native/ sits beside dist/.
const ADDON = packagePath('native/fs-attrs/build/Release/fs_attrs.node');
let loaded: NativeFsAttrs | undefined;

/** Loads the addon once; a clear error when it was not built. */
export function nativeFsAttrs(): NativeFsAttrs {
  if (loaded !== undefined) return loaded;
  if (!existsSync(ADDON)) {
    throw new Error(`the native module for capabilities, ACLs and extended attributes is not built (${ADDON}): run npm run build:native`);
  }
  loaded = createRequire(import.meta.url)(ADDON) as NativeFsAttrs;
  return loaded;
}
