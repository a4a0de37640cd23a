import { readdirSync } from 'node:fs';
import type { StatSnapshot } from './hash-file.js';
import { nativeFsAttrs, type NativeFsAttrs } from './native-fs-attrs.js';
import { packedStat } from './packed-stat.js';

/** A directory's entries sorted by name bytes, with the `lstat` data of each read in the same pass where it could be. */
export interface DirectoryListing {
  readonly names: readonly Buffer[];
  /** The `lstat` data of `names[i]`; `undefined` when it was not read here (the caller calls `lstat` itself). */
  stat(i: number): StatSnapshot | undefined;
}

const NO_STATS = (): undefined => undefined;

let native: ReadDirectory | null | undefined;
type ReadDirectory = NonNullable<NativeFsAttrs['readDirectory']>;

/**
 * Lists a directory for the walk. Through the native addon, one call returns the sorted names and every entry's
 * `lstat` data in typed arrays: per entry that saves a `BigIntStats` (fourteen BigInts, four Dates) and a trip
 * through libuv, about half the walk thread's time on a tree of small files. An entry whose `lstat` failed there
 * has no data (the walk calls `lstat` on it as before, so its error is said the same way), and a directory the
 * addon cannot list is listed by `readdirSync`, which throws the error the scan reports. Without the addon (or an
 * addon built before `readDirectory`), `readdirSync` alone.
 */
export function listDirectory(fsPath: Buffer): DirectoryListing {
  native ??= loadReadDirectory();
  const listed = native === null ? undefined : native(fsPath);
  if (listed === undefined || typeof listed === 'number') {
    return { names: readdirSync(fsPath, { encoding: 'buffer' }).sort((a, b) => Buffer.compare(a, b)), stat: NO_STATS };
  }
  const [packedNames, ends, numbers, times, errors] = listed;
  // A view into the one block the addon made for the directory (an addon built before that made a Buffer).
  const packed = Buffer.isBuffer(packedNames) ? packedNames : Buffer.from(packedNames.buffer, packedNames.byteOffset, packedNames.byteLength);
  const names: Buffer[] = new Array<Buffer>(ends.length);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const end = ends[i] as number;
    names[i] = packed.subarray(start, end);
    start = end;
  }
  return {
    names,
    stat(i: number): StatSnapshot | undefined {
      return errors[i] !== 0 ? undefined : packedStat(numbers, times, i);
    },
  };
}

function loadReadDirectory(): ReadDirectory | null {
  try {
    const addon = nativeFsAttrs();
    // An addon built from an older checkout lacks it: the walk still works, at the old speed.
    return addon.readDirectory?.bind(addon) ?? null;
  } catch {
    return null;
  }
}
