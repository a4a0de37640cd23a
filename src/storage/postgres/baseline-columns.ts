import type { FileIssue, FileState, FileType } from '../../core/file-state.js';
import { attributesField, attributesToJson } from '../../core/file-state-json.js';
import { pathFromKey, pathKey } from '../../core/path-bytes.js';
import { storedFingerprint } from '../../core/state-fingerprint.js';

/** Baseline columns with their PostgreSQL array types, in the order {@link stateColumns} fills them. */
export const BASELINE_COLUMNS = [
  ['path_key', 'bytea'],
  ['type', 'text'],
  ['size', 'bigint'],
  ['mode', 'bigint'],
  ['uid', 'bigint'],
  ['gid', 'bigint'],
  ['uname', 'text'],
  ['gname', 'text'],
  ['mtime_ns', 'bigint'],
  ['ctime_ns', 'bigint'],
  ['inode', 'bigint'],
  ['dev', 'bigint'],
  ['nlink', 'bigint'],
  ['link_target', 'bytea'],
  ['md5', 'text'],
  ['sha1', 'text'],
  ['sha256', 'text'],
  ['issues', 'text'],
  ['fingerprint', 'text'],
  ['attributes', 'text'],
] as const;

/** The column names, comma-separated, for SELECT lists. */
export const BASELINE_COLUMN_LIST = BASELINE_COLUMNS.map(([name]) => name).join(', ');

type Cell = string | number | bigint | Buffer | null;

function stateRow(state: FileState): Cell[] {
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
 * The states as one array per column (for `unnest`), so a whole batch is written in one statement. When a path
 * appears twice, its last state wins, as it would row by row.
 */
export function stateColumns(states: readonly FileState[]): Cell[][] {
  const last = new Map<string, FileState>();
  for (const state of states) last.set(state.path.toString('latin1'), state);
  const columns: Cell[][] = BASELINE_COLUMNS.map(() => []);
  for (const state of last.values()) stateRow(state).forEach((cell, i) => columns[i]?.push(cell));
  return columns;
}

/** Rebuilds a state from a row read in {@link BASELINE_COLUMNS} order (`rowMode: 'array'`: BIGINTs arrive as text). */
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
    // Text from the driver: BigInt keeps every digit of a nanosecond time.
    mtimeNs: BigInt(mtime as string),
    ctimeNs: BigInt(ctime as string),
    inode: Number(inode),
    dev: Number(dev),
    nlink: Number(nlink),
    ...(Buffer.isBuffer(link) ? { linkTarget: link } : {}),
    hashes,
    ...(typeof attributes === 'string' ? { inodeAttributes: attributesField(JSON.parse(attributes)) } : {}),
    issues: typeof issues === 'string' ? (JSON.parse(issues) as FileIssue[]) : [],
  };
}
