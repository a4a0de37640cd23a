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
}

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
