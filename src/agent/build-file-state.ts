import { constants } from 'node:fs';
import type { FileHashes, FileIssue, FileState, FileType, HashAlgorithm } from '../core/file-state.js';
import type { StatSnapshot } from './hash-file.js';
import type { UserNames } from './user-names.js';
import type { WalkEntry } from './walk-tree.js';

const TYPE_OF_FORMAT: ReadonlyMap<number, FileType> = new Map([
  [constants.S_IFREG, 'file'],
  [constants.S_IFDIR, 'directory'],
  [constants.S_IFLNK, 'symlink'],
  [constants.S_IFIFO, 'fifo'],
  [constants.S_IFSOCK, 'socket'],
  [constants.S_IFBLK, 'block-device'],
  [constants.S_IFCHR, 'char-device'],
]);

/** Overrides from hashing: the stat of the bytes actually read, their digests, and any issue. */
export interface StateExtras {
  readonly stat?: StatSnapshot;
  readonly hashes?: FileHashes;
  readonly issue?: FileIssue;
}

/** Builds the state of a walked entry; `extras.stat` (from the read) wins over the walk's `lstat`. */
export function buildFileState(entry: WalkEntry, names: UserNames, extras: StateExtras = {}): FileState {
  const st = extras.stat ?? entry.stat;
  const uname = names.user(st.uid);
  const gname = names.group(st.gid);
  const issues: FileIssue[] = [];
  if (entry.issue !== undefined) issues.push(entry.issue);
  if (extras.issue !== undefined) issues.push(extras.issue);
  return {
    path: entry.path,
    type: TYPE_OF_FORMAT.get(st.format) ?? 'unknown',
    size: st.size,
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    ...(uname === undefined ? {} : { uname }),
    ...(gname === undefined ? {} : { gname }),
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    inode: st.inode,
    dev: st.dev,
    nlink: st.nlink,
    ...(entry.linkTarget === undefined ? {} : { linkTarget: entry.linkTarget }),
    hashes: extras.hashes ?? {},
    issues,
  };
}

/**
 * The fast path: a regular file whose device, inode, size, mtime and ctime (nanoseconds) all equal the cached
 * state's, and whose cached state was hashed cleanly with every requested algorithm, still has the same bytes,
 * short of someone resetting ctime, which needs the clock or raw disk access.
 */
export function canReuseHashes(previous: FileState, stat: StatSnapshot, algorithms: readonly HashAlgorithm[]): boolean {
  return (
    previous.type === 'file' &&
    previous.issues.length === 0 &&
    previous.dev === stat.dev &&
    previous.inode === stat.inode &&
    previous.size === stat.size &&
    previous.mtimeNs === stat.mtimeNs &&
    previous.ctimeNs === stat.ctimeNs &&
    algorithms.every((a) => previous.hashes[a] !== undefined)
  );
}
