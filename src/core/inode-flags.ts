/**
 * The inode flags (`FS_IOC_GETFLAGS`, what `lsattr` shows) that a user can set with `chattr` and that matter for
 * integrity, as `lsattr`'s letters in a fixed order. Flags the file system manages by itself (extents, hashed
 * directory index, inline data, encryption, verity) are left out: they change with no one asking.
 */
const FLAG_LETTERS: readonly (readonly [number, string])[] = [
  [0x00000001, 's'], // secure deletion
  [0x00000002, 'u'], // undeletable
  [0x00000008, 'S'], // synchronous updates
  [0x00010000, 'D'], // synchronous directory updates
  [0x00000010, 'i'], // immutable
  [0x00000020, 'a'], // append only
  [0x00000040, 'd'], // no dump
  [0x00000080, 'A'], // no atime updates
  [0x00000004, 'c'], // compressed
  [0x00004000, 'j'], // data journalling
  [0x00008000, 't'], // no tail merging
  [0x00020000, 'T'], // top of directory hierarchy
  [0x00800000, 'C'], // no copy on write
  [0x02000000, 'x'], // direct access
  [0x20000000, 'P'], // project hierarchy
];

/** The letters of the flags set in `flags`, `-` when none is. */
export function describeInodeFlags(flags: number): string {
  let text = '';
  for (const [bit, letter] of FLAG_LETTERS) if ((flags & bit) !== 0) text += letter;
  return text === '' ? '-' : text;
}
