import { lstatSync } from 'node:fs';
import { displayPath, hostPathOf, isWithin, trimTrailingSlash } from '../core/path-bytes.js';
import type { ScanScope } from '../core/scan-scope.js';
import type { WalkItem } from './walk-tree.js';

/** A monitored directory a scan found nothing to scan in, and why. */
export interface UnscannableRoot {
  readonly path: Buffer;
  readonly reason: string;
}

interface Watched {
  readonly path: Buffer;
  /** Something was scanned: an entry below it, or the directory itself when it is listed (even if empty). */
  seen: boolean;
  /** Why nothing below it could be scanned, when the walk said so. */
  reason?: string;
}

/**
 * Notices the monitored directories a scan finds nothing to scan in: one that does not exist, cannot be listed,
 * is on a skipped file system, or that the scope excludes whole (an `ignore` of the directory itself). Such a
 * scan is not a clean one with nothing changed, and must not pass as one: a bug that empties the walk
 * (`/` once did) would otherwise hide every change on the host behind "scanned 0 entries".
 * The directories watched are the scan's top-level ones and every configured directory below them.
 */
export class RootCoverage {
  readonly #pending: Watched[];
  readonly #all: Watched[];

  constructor(scope: ScanScope) {
    const paths = new Map<string, Buffer>();
    for (const top of scope.topLevelRoots) paths.set(top.path.toString('latin1'), top.path);
    for (const root of scope.roots) {
      if (scope.topLevelRoots.some((top) => isWithin(root.path, top.path))) paths.set(root.path.toString('latin1'), root.path);
    }
    this.#all = [...paths.values()].map((path) => ({ path, seen: false }));
    this.#pending = [...this.#all];
  }

  /** True once every monitored directory has been seen with an entry below it: {@link saw} has nothing left to do. */
  get settled(): boolean {
    return this.#pending.length === 0;
  }

  /** Takes one walk item into account; cheap once every directory has been seen (the usual case). */
  saw(item: WalkItem): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const watched = this.#pending[i] as Watched;
      if (item.kind === 'unscanned') {
        // The directory itself, or a directory above it, could not be listed (or was skipped): nothing below it
        // was scanned, even though the directory's own entry may have been recorded.
        if (trimTrailingSlash(item.path).equals(watched.path)) watched.reason = item.issue.message;
        else if (isWithin(watched.path, item.path)) watched.reason = `${item.issue.message} (at ${displayPath(item.path)})`;
        if (watched.reason !== undefined) {
          watched.seen = false;
          this.#pending.splice(i, 1);
        }
        continue;
      }
      if (!isWithin(item.path, watched.path)) continue;
      watched.seen = true;
      // The directory's own entry comes before the word that it could not be listed: wait for what follows.
      if (!item.path.equals(watched.path)) this.#pending.splice(i, 1);
    }
  }

  /** The directories the scan found nothing to scan in, each with the reason (`rootDir`: `--root`). */
  finish(rootDir?: Buffer): UnscannableRoot[] {
    return this.#all.filter((w) => !w.seen || w.reason !== undefined).map((w) => ({ path: w.path, reason: w.reason ?? whyEmpty(hostPathOf(w.path, rootDir)) }));
  }
}

function whyEmpty(hostPath: Buffer): string {
  try {
    lstatSync(hostPath);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'it does not exist';
    if (code === 'ENOTDIR') return 'a component of its path is not a directory';
    if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
    return `it cannot be read (${code ?? String(error)})`;
  }
  return 'nothing in it is monitored: an ignore entry, restrict or recursion_level excludes it all';
}
