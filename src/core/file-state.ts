import type { InodeAttributes } from './inode-attributes.js';

/**
 * The state of one file system entry as seen by a scan: what the baseline stores and what scans compare.
 */

/** Kinds of file system entries. Only `file` entries are ever opened and hashed. */
export const FILE_TYPES = ['file', 'directory', 'symlink', 'fifo', 'socket', 'block-device', 'char-device', 'unknown'] as const;
export type FileType = (typeof FILE_TYPES)[number];

/** Digest algorithms Custos computes, all from one read of the file. */
export const HASH_ALGORITHMS = ['md5', 'sha1', 'sha256'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** Lowercase hex digests; an algorithm is absent when it was not requested or could not be computed. */
export type FileHashes = { readonly [A in HashAlgorithm]?: string };

/**
 * Problems met while looking at one entry. They are data on the state, never an aborted scan.
 * - `permission-denied`: the entry could not be read (EACCES/EPERM)
 * - `vanished`: the entry disappeared between listing and reading
 * - `changed-while-hashed`: size, times or identity changed during the read, so no digest is trusted
 * - `path-too-long`: the path exceeds the kernel's limit and cannot be opened by name
 * - `too-large`: larger than the configured maximum size for hashing
 * - `unreadable-directory`: its entries could not be listed; what the baseline holds below it is kept
 * - `symlink-loop`: following links led back to an ancestor
 * - `io-error`: any other error, with its code in the message
 */
export const FILE_ISSUE_CODES = [
  'permission-denied',
  'vanished',
  'changed-while-hashed',
  'path-too-long',
  'too-large',
  'unreadable-directory',
  'symlink-loop',
  'io-error',
] as const;
export type FileIssueCode = (typeof FILE_ISSUE_CODES)[number];

/** One problem met on one entry. */
export interface FileIssue {
  readonly code: FileIssueCode;
  readonly message: string;
}

/**
 * Everything Custos knows of one entry. Times are nanoseconds since the epoch, exactly as the kernel reports
 * them; `mode` holds the permission bits including setuid, setgid and sticky (`st_mode & 0o7777`).
 */
export interface FileState {
  readonly path: Buffer;
  readonly type: FileType;
  readonly size: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname?: string;
  readonly gname?: string;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly inode: number;
  readonly dev: number;
  readonly nlink: number;
  /** The target of a symlink, as bytes. */
  readonly linkTarget?: Buffer;
  readonly hashes: FileHashes;
  /** Capabilities, ACLs, extended attributes and inode flags, as far as they were read. */
  readonly inodeAttributes?: InodeAttributes;
  readonly issues: readonly FileIssue[];
}

/** True when the file kept changing while it was read (its digests are those of the last read). */
export function isUnstable(state: FileState): boolean {
  return state.type === 'file' && state.issues.some((i) => i.code === 'changed-while-hashed');
}

/** True when the state has an issue that makes its digests untrustworthy or missing by accident. */
export function hasHashIssue(state: FileState): boolean {
  return state.issues.some((i) => i.code !== 'too-large');
}
