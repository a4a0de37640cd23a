import { constants } from 'node:fs';
import type { FileHashes, FileIssue, FileState, FileType } from '../core/file-state.js';
import type { StatSnapshot } from './hash-file.js';
import type { InodeAttributesResult } from './read-inode-attributes.js';
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

/** The entry type of an `st_mode & S_IFMT` value. */
export function typeOfFormat(format: number): FileType {
  return TYPE_OF_FORMAT.get(format) ?? 'unknown';
}

/** Overrides from hashing: the stat of the bytes actually read, their digests, and any issue. */
export interface StateExtras {
  readonly stat?: StatSnapshot;
  readonly hashes?: FileHashes;
  readonly issue?: FileIssue;
  /** Capabilities, ACLs, extended attributes and flags as read, or why they could not be. */
  readonly attributes?: InodeAttributesResult;
}

/** Builds the state of a walked entry; `extras.stat` (from the read) wins over the walk's `lstat`. */
export function buildFileState(entry: WalkEntry, names: UserNames, extras: StateExtras = {}): FileState {
  const st = extras.stat ?? entry.stat;
  const uname = names.user(st.uid);
  const gname = names.group(st.gid);
  const issues: FileIssue[] = [];
  if (entry.issue !== undefined) issues.push(entry.issue);
  if (extras.issue !== undefined) issues.push(extras.issue);
  if (extras.attributes?.issue !== undefined) issues.push(extras.attributes.issue);
  const inodeAttributes = extras.attributes?.attributes;
  const hashes = extras.hashes ?? {};
  // The common case (both names known, not a symlink) as literals: the same keys in the same order as the general
  // form below, without the temporary object each conditional spread makes (a scan builds one state per file).
  if (uname !== undefined && gname !== undefined && entry.linkTarget === undefined) {
    const { path } = entry;
    const type = typeOfFormat(st.format);
    const { size, mode, uid, gid, mtimeNs, ctimeNs, inode, dev, nlink } = st;
    return inodeAttributes === undefined
      ? { path, type, size, mode, uid, gid, uname, gname, mtimeNs, ctimeNs, inode, dev, nlink, hashes, issues }
      : { path, type, size, mode, uid, gid, uname, gname, mtimeNs, ctimeNs, inode, dev, nlink, hashes, inodeAttributes, issues };
  }
  return {
    path: entry.path,
    type: typeOfFormat(st.format),
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
    hashes,
    ...(inodeAttributes === undefined ? {} : { inodeAttributes }),
    issues,
  };
}
