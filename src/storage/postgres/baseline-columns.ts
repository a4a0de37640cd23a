import type { FileState } from '../../core/file-state.js';
import { stateToRow, type BaselineCell } from '../baseline-row.js';

/** Baseline columns with their PostgreSQL array types, in the order `stateToRow` (src/storage/baseline-row.ts) fills them. */
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

/**
 * The states as one array per column (for `unnest`), so a whole batch is written in one statement. When a path
 * appears twice, its last state wins, as it would row by row.
 */
export function stateColumns(states: readonly FileState[]): BaselineCell[][] {
  const last = new Map<string, FileState>();
  for (const state of states) last.set(state.path.toString('latin1'), state);
  const columns: BaselineCell[][] = BASELINE_COLUMNS.map(() => []);
  for (const state of last.values()) stateToRow(state).forEach((cell, i) => columns[i]?.push(cell));
  return columns;
}

export { rowToState } from '../baseline-row.js';
