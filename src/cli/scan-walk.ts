import { readMountTable, type MountTable } from '../agent/mount-table.js';
import { WalkThread } from '../agent/threaded-walk.js';
import type { CustosConfig } from '../core/config/custos-config.js';
import { pathFromString, trimTrailingSlash } from '../core/path-bytes.js';
import { compileScanScope, type ScanScope } from '../core/scan-scope.js';

// Apart from run-check.ts, which imports the whole analysis pipeline and the store: `custos check` starts its walk
// thread with only this and the configuration loaded, and loads the rest while the thread walks.

/** A scan's walk, started before the scan itself (see {@link startScanWalk}). */
export interface ScanWalk {
  readonly scope: ScanScope;
  readonly mounts: MountTable;
  readonly rootDir: Buffer | undefined;
  readonly thread: WalkThread;
}

/**
 * Chunks (of 1,024 entries) an early walk may get ahead while the store is checked and opened: ~200 KB each on a
 * tree of small files. Not measured as a sweep.
 */
const WALK_HEAD_START = 32;

/**
 * Starts the walk of a standalone scan at once, in its thread: it needs nothing from the store, so it runs while the
 * store is checked (`PRAGMA quick_check`), opened and read, and the thread's own start-up (loading its modules) is
 * not spent waiting. Hand it to `runCheck` (run-check.ts; same `config`, `paths` and `rootDir`), or `thread.stop()` it.
 */
export function startScanWalk(config: CustosConfig, paths: readonly string[], rootDir?: string): ScanWalk {
  const scope = compileScanScope(config.syscheck, paths);
  const mounts = readMountTable(config.syscheck.skip);
  const dir = hostRootDir(rootDir);
  const thread = new WalkThread(scope, { mounts, ...(dir === undefined ? {} : { rootDir: dir }) }, { headStart: WALK_HEAD_START });
  return { scope, mounts, rootDir: dir, thread };
}

/** `--root` as path bytes; `--root /` (or `//`) is this host: no prefix at all, rather than an empty one. */
export function hostRootDir(rootDir: string | undefined): Buffer | undefined {
  const trimmed = rootDir === undefined ? undefined : trimTrailingSlash(pathFromString(rootDir));
  return trimmed === undefined || trimmed.equals(Buffer.from('/')) ? undefined : trimmed;
}
