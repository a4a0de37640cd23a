import type { FileState } from './file-state.js';
import { sameInodeAttributes } from './inode-attributes.js';

/**
 * True when two states would be stored identically. Unlike `compareFileState`, this looks at everything kept,
 * including ctime, device and issues, so the baseline's cached stat data stays fresh for the fast path even when
 * nothing worth an event changed.
 */
export function sameFileState(a: FileState, b: FileState): boolean {
  return (
    a.type === b.type &&
    a.size === b.size &&
    a.mode === b.mode &&
    a.uid === b.uid &&
    a.gid === b.gid &&
    a.uname === b.uname &&
    a.gname === b.gname &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.inode === b.inode &&
    a.dev === b.dev &&
    a.nlink === b.nlink &&
    sameOptionalBytes(a.linkTarget, b.linkTarget) &&
    a.hashes.md5 === b.hashes.md5 &&
    a.hashes.sha1 === b.hashes.sha1 &&
    a.hashes.sha256 === b.hashes.sha256 &&
    sameInodeAttributes(a.inodeAttributes, b.inodeAttributes) &&
    a.issues.length === b.issues.length &&
    a.issues.every((issue, i) => issue.code === b.issues[i]?.code && issue.message === b.issues[i]?.message)
  );
}

function sameOptionalBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined || b === undefined ? a === b : a.equals(b);
}
