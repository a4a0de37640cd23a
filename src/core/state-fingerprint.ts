import type { FileState, FileType, HashAlgorithm } from './file-state.js';

/** What a fingerprint is made of: the stat data that moves whenever anything about an inode moves. */
export interface FingerprintParts {
  readonly type: FileType;
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly inode: number;
  readonly dev: number;
  readonly uname?: string | undefined;
  readonly gname?: string | undefined;
}

const LETTER: Readonly<Record<HashAlgorithm, string>> = { md5: 'm', sha1: 's', sha256: 'S' };

/**
 * A short string that equals between a stored state and a fresh `lstat` exactly when nothing about the entry can
 * have changed: the kernel moves ctime on every write, chmod, chown, link or rename of an inode, and a replaced
 * file has another inode. The names are included because a renamed user changes `user_name` without touching
 * the file, and `digests` says which clean digests the stored state holds (a state with an issue never matches,
 * so an unreadable file is retried every scan). A trailing `a` says the state holds its inode attributes
 * (capabilities, ACLs, ...): every change to those moves ctime too, so they need no part of their own, but a
 * state read without them (before they were checked) must be read again once they are.
 * This is what lets an unchanged scan skip everything but `lstat`.
 */
export function fingerprint(parts: FingerprintParts, digests: string): string {
  return `${parts.type}|${parts.size}|${parts.mtimeNs}|${parts.ctimeNs}|${parts.inode}|${parts.dev}|${parts.uname ?? ''}|${parts.gname ?? ''}|${digests}`;
}

/** The fingerprint of a state as the baseline stores it. */
export function storedFingerprint(state: FileState): string {
  if (state.issues.length > 0) return fingerprint(state, '!');
  let digests = '';
  for (const a of ['md5', 'sha1', 'sha256'] as const) if (state.hashes[a] !== undefined) digests += LETTER[a];
  if (state.inodeAttributes !== undefined) digests += ATTRIBUTES_LETTER;
  return fingerprint(state, digests);
}

/**
 * The digest letters a scan asks for, and `a` when it reads inode attributes: what a stored fingerprint must list
 * to be reused.
 */
export function requestedDigests(type: FileType, algorithms: readonly HashAlgorithm[], attributes = false): string {
  let digests = '';
  if (type === 'file') for (const a of ['md5', 'sha1', 'sha256'] as const) if (algorithms.includes(a)) digests += LETTER[a];
  return attributes ? digests + ATTRIBUTES_LETTER : digests;
}

const ATTRIBUTES_LETTER = 'a';

/** The type recorded in a fingerprint (its first field). */
export function fingerprintType(fp: string): FileType {
  return fp.slice(0, fp.indexOf('|')) as FileType;
}
