import type { FileIssue, FileState, FileType } from '../../core/file-state.js';
import { attributesField, attributesToJson } from '../../core/file-state-json.js';
import { pathFromKey, pathKey } from '../../core/path-bytes.js';
import { storedFingerprint } from '../../core/state-fingerprint.js';

/** Baseline columns in the order {@link stateToRow} writes them and {@link rowToState} reads them. */
export const BASELINE_COLUMNS = [
  'path_key',
  'type',
  'size',
  'mode',
  'uid',
  'gid',
  'uname',
  'gname',
  'mtime_ns',
  'ctime_ns',
  'inode',
  'dev',
  'nlink',
  'link_target',
  'md5',
  'sha1',
  'sha256',
  'issues',
  'fingerprint',
  'attributes',
] as const;

type SqlValue = string | number | bigint | Buffer | null;

/** The column values of a state, in {@link BASELINE_COLUMNS} order. */
export function stateToRow(state: FileState): SqlValue[] {
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
    state.inodeAttributes === undefined ? null : JSON.stringify(attributesToJson(state.inodeAttributes)),
  ];
}

/**
 * Rebuilds a state from a raw row read with safe integers (every INTEGER arrives as a bigint, so nanosecond
 * times keep all their digits).
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
    mtimeNs: BigInt(mtime as bigint),
    ctimeNs: BigInt(ctime as bigint),
    inode: Number(inode),
    dev: Number(dev),
    nlink: Number(nlink),
    ...(Buffer.isBuffer(link) ? { linkTarget: link } : {}),
    hashes: hashes,
    ...(typeof attributes === 'string' ? { inodeAttributes: attributesField(JSON.parse(attributes)) } : {}),
    issues: typeof issues === 'string' ? (JSON.parse(issues) as FileIssue[]) : [],
  };
}
