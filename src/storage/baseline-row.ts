import type { FileIssue, FileState, FileType } from '../core/file-state.js';
import { attributesField, attributesJsonText } from '../core/file-state-json.js';
import { pathFromKey, pathKey } from '../core/path-bytes.js';
import { storedFingerprint } from '../core/state-fingerprint.js';

// A baseline row's values, the same for both engines: each engine lists the columns in this order (SQLite's
// BASELINE_COLUMNS, PostgreSQL's with their array types) and writes and reads them with these two functions.

/** One column value, as both drivers take it. */
export type BaselineCell = string | number | bigint | Buffer | null;

/** The column values of a state, in the engines' BASELINE_COLUMNS order. */
export function stateToRow(state: FileState): BaselineCell[] {
  return [
    pathKey(state.path),
    state.type,
    state.size,
    state.mode,
    state.uid,
    state.gid,
    state.uname ?? null,
    state.gname ?? null,
    state.mtimeNs,
    state.ctimeNs,
    state.inode,
    state.dev,
    state.nlink,
    state.linkTarget ?? null,
    state.hashes.md5 ?? null,
    state.hashes.sha1 ?? null,
    state.hashes.sha256 ?? null,
    state.issues.length === 0 ? null : JSON.stringify(state.issues),
    storedFingerprint(state),
    state.inodeAttributes === undefined ? null : attributesJsonText(state.inodeAttributes),
  ];
}

/**
 * Rebuilds a state from a row read in BASELINE_COLUMNS order. Nanosecond times arrive as bigints (SQLite, read
 * with safe integers) or as text (PostgreSQL's BIGINT): BigInt() keeps every digit of either.
 */
export function rowToState(row: readonly unknown[]): FileState {
  const [key, type, size, mode, uid, gid, uname, gname, mtime, ctime, inode, dev, nlink, link, md5, sha1, sha256, issues, , attributes] = row;
  const hashes: Record<string, string> = {};
  if (typeof md5 === 'string') hashes.md5 = md5;
  if (typeof sha1 === 'string') hashes.sha1 = sha1;
  if (typeof sha256 === 'string') hashes.sha256 = sha256;
  return {
    path: pathFromKey(key as Buffer),
    type: type as FileType,
    size: Number(size),
    mode: Number(mode),
    uid: Number(uid),
    gid: Number(gid),
    ...(typeof uname === 'string' ? { uname } : {}),
    ...(typeof gname === 'string' ? { gname } : {}),
    mtimeNs: BigInt(mtime as bigint | string),
    ctimeNs: BigInt(ctime as bigint | string),
    inode: Number(inode),
    dev: Number(dev),
    nlink: Number(nlink),
    ...(Buffer.isBuffer(link) ? { linkTarget: link } : {}),
    hashes: hashes,
    ...(typeof attributes === 'string' ? { inodeAttributes: attributesField(JSON.parse(attributes)) } : {}),
    issues: typeof issues === 'string' ? (JSON.parse(issues) as FileIssue[]) : [],
  };
}
