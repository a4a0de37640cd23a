/** Baseline columns in the order `stateToRow` writes them and `rowToState` reads them (src/storage/baseline-row.ts). */
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

export { rowToState, stateToRow } from '../baseline-row.js';
