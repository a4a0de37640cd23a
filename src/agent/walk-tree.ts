import { constants, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import type { FileIssue } from '../core/file-state.js';
import { depthBelow, hostPathOf, isWithin, joinPath, pathKey } from '../core/path-bytes.js';
import type { ScanScope, ScopeRoot } from '../core/scan-scope.js';
import { snapshot, type StatSnapshot } from './hash-file.js';
import { issueFromError } from './issue-from-error.js';
import { listDirectory, type DirectoryListing } from './list-directory.js';
import type { MountTable } from './mount-table.js';

const SKIPPED_FILE_SYSTEM = 'skipped ';

/**
 * True when the walk left a subtree out on purpose (a file system skipped by type, `skip_proc` and the like), not
 * because it could not look into it: only the latter hides changes that should be seen.
 */
export function skippedOnPurpose(issue: FileIssue): boolean {
  return issue.code === 'io-error' && issue.message.startsWith(SKIPPED_FILE_SYSTEM);
}

/** Linux's PATH_MAX counts the terminating NUL: a longer path cannot be named in a system call. */
export const MAX_PATH_BYTES = 4095;

/** A monitored entry found by the walk, with its `lstat` data (or the target's, for a followed symlink). */
export interface WalkEntry {
  readonly kind: 'entry';
  readonly path: Buffer;
  readonly key: Buffer;
  readonly root: ScopeRoot;
  readonly stat: StatSnapshot;
  readonly linkTarget?: Buffer;
  /** For a followed symlink to a file: the real path to read, on the host. */
  readonly readPath?: Buffer;
  readonly issue?: FileIssue;
}

/**
 * A subtree the walk could not look into: an unreadable directory, a skipped file system, a path too long, an
 * entry that could not be stat'ed. What the baseline holds there is kept, never reported as deleted.
 * `includesSelf` is true when no entry was yielded for `path` itself.
 */
export interface UnscannedSubtree {
  readonly kind: 'unscanned';
  readonly path: Buffer;
  readonly key: Buffer;
  readonly includesSelf: boolean;
  readonly issue: FileIssue;
}

export type WalkItem = WalkEntry | UnscannedSubtree;

/** What the walker needs besides the scope. */
export interface WalkOptions {
  readonly mounts: MountTable;
  /** Host directory the scanned file system is mounted at (`--root`); paths are reported relative to it. */
  readonly rootDir?: Buffer;
}

interface Frame {
  readonly path: Buffer;
  readonly key: Buffer;
  /** Whether a configured directory lies below this one: only then can a child start a root of its own. */
  readonly rootsBelow: boolean;
  readonly root: ScopeRoot;
  readonly listing: DirectoryListing;
  readonly identity: string;
  readonly dev: number;
  next: number;
}

/**
 * Walks the scope depth-first with each directory's entries sorted by name bytes, so items come out in path-key
 * order (see `pathKey`). Uses `lstat` (a directory's entries are looked at as it is listed: see `listDirectory`)
 * and never follows a symlink unless the governing directory says `follow_symbolic_link`; a symlink cycle or a
 * bind-mount loop is cut at the first repeated directory. Synchronous: it runs where blocking is fine (the scan loop interleaves it with hashing results).
 */
export function* walkTree(scope: ScanScope, options: WalkOptions): Generator<WalkItem> {
  // What one visit found (at most an entry and an unscanned subtree), reused: a generator per entry delegated to
  // with `yield*` cost the walk thread 5-10% of its CPU on a tree of small files.
  const found: WalkItem[] = [];
  for (const top of scope.topLevelRoots) {
    const stack: Frame[] = [];
    const onStack = new Set<string>();
    visit(top.path, pathKey(top.path), scope.governing(top.path) ?? top, undefined, stack, onStack, scope, options, undefined, found);
    for (const item of found) yield item;
    found.length = 0;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1] as Frame;
      const index = frame.next++;
      const name = frame.listing.names[index];
      if (name === undefined) {
        stack.pop();
        onStack.delete(frame.identity);
        continue;
      }
      const child = joinPath(frame.path, name);
      const root = (frame.rootsBelow ? scope.rootAt(child) : undefined) ?? frame.root;
      visit(child, childKey(frame.key, name), root, frame, stack, onStack, scope, options, frame.listing.stat(index), found);
      for (const item of found) yield item;
      found.length = 0;
    }
  }
}

/** Looks at one entry: pushes onto `found` what the walk yields for it, and onto `stack` a directory to enter. */
function visit(
  path: Buffer,
  key: Buffer,
  root: ScopeRoot,
  parent: Frame | undefined,
  stack: Frame[],
  onStack: Set<string>,
  scope: ScanScope,
  options: WalkOptions,
  listed: StatSnapshot | undefined,
  found: WalkItem[],
): void {
  const fsPath = hostPathOf(path, options.rootDir);
  if (fsPath.length > MAX_PATH_BYTES) {
    found.push({
      kind: 'unscanned',
      path,
      key,
      includesSelf: true,
      issue: { code: 'path-too-long', message: `path is ${fsPath.length} bytes, over the ${MAX_PATH_BYTES}-byte limit` },
    });
    return;
  }
  // Listed with its directory (see listDirectory), or looked at now.
  let stat = listed;
  if (stat === undefined) {
    let lst;
    try {
      lst = lstatSync(fsPath, { bigint: true, throwIfNoEntry: false });
    } catch (error) {
      found.push({ kind: 'unscanned', path, key, includesSelf: true, issue: issueFromError(error) });
      return;
    }
    if (lst === undefined) return; // vanished between readdir and lstat: it is simply not there
    stat = snapshot(lst);
  }
  let linkTarget: Buffer | undefined;
  let readPath: Buffer | undefined;
  let issue: FileIssue | undefined;
  if (stat.format === constants.S_IFLNK) {
    linkTarget = readLink(fsPath);
    if (root.directory.followSymlinks) {
      try {
        stat = snapshot(statSync(fsPath, { bigint: true }));
        if (stat.format === constants.S_IFREG) readPath = realpathSync(fsPath, { encoding: 'buffer' });
      } catch (error) {
        issue = (error as NodeJS.ErrnoException).code === 'ELOOP' ? { code: 'symlink-loop', message: 'the symlink chain loops' } : issueFromError(error);
      }
    }
  }
  const isDir = stat.format === constants.S_IFDIR;
  const monitored = scope.isMonitored(path, isDir ? 'directory' : 'file', root);
  const descend = isDir && scope.shouldDescend(path, root);
  // An ignored mount point (`/proc` under a monitored `/`) is neither visited nor reported as skipped.
  const onOtherDevice = parent === undefined || stat.dev !== parent.dev;
  if ((monitored || descend) && isDir && onOtherDevice && options.mounts.isSkipped(fsPath)) {
    found.push({
      kind: 'unscanned',
      path,
      key,
      includesSelf: true,
      issue: { code: 'io-error', message: `${SKIPPED_FILE_SYSTEM}${options.mounts.typeAt(fsPath) ?? ''} file system` },
    });
    return;
  }
  let listing: DirectoryListing | undefined;
  // Only a directory entered needs one (most entries are files: no string each).
  const identity = descend ? `${stat.dev}:${stat.inode}` : '';
  if (descend && onStack.has(identity)) {
    issue = { code: 'symlink-loop', message: 'this directory is its own ancestor (symlink or bind-mount loop)' };
  } else if (descend) {
    try {
      listing = listDirectory(fsPath);
    } catch (error) {
      const cause = issueFromError(error);
      // Removed between its parent's listing and now (a temporary directory, a package's old files): it is simply
      // not there, like an entry whose lstat finds nothing, and the baseline sees it deleted. Not a subtree that
      // could not be scanned: that alert on every scan of a busy tree would teach people to ignore it.
      if (cause.code === 'vanished' && isGone(fsPath)) return;
      issue = { code: 'unreadable-directory', message: `cannot list entries: ${cause.message}` };
    }
  }
  if (monitored && isDir && !descend && issue === undefined && depthBelow(path, root.path) > root.directory.recursionLevel) {
    // The first directory past recursion_level: what appears below it is never seen, so say so on its state (a new
    // one alerts rather than being recorded silently, as a directory whose content reports itself would be).
    issue = { code: 'unreadable-directory', message: `not entered: deeper than recursion_level ${root.directory.recursionLevel}` };
  }
  if (monitored) found.push(walkEntry(path, key, root, stat, { linkTarget, readPath, issue }));
  if (descend && listing === undefined) {
    found.push({ kind: 'unscanned', path, key, includesSelf: !monitored, issue: issue ?? { code: 'io-error', message: 'not listed' } });
    return;
  }
  if (listing !== undefined) {
    onStack.add(identity);
    const rootsBelow = scope.roots.some((r) => r.path.length > path.length && isWithin(r.path, path));
    stack.push({ path, key, rootsBelow, root, listing, identity, dev: stat.dev, next: 0 });
  }
}

/** True when nothing is at `path` any more (a failing look is not taken for absence). */
function isGone(path: Buffer): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) === undefined;
  } catch {
    return false;
  }
}

function readLink(path: Buffer): Buffer | undefined {
  try {
    return readlinkSync(path, { encoding: 'buffer' });
  } catch {
    return undefined;
  }
}

/** The key of a directory's entry, from the directory's key: `pathKey(joinPath(dir, name))` without re-scanning. */
function childKey(parentKey: Buffer, name: Buffer): Buffer {
  // Like joinPath: no second separator after a directory path that already ends with one.
  const separator = parentKey.length > 0 && parentKey[parentKey.length - 1] === 0 ? 0 : 1;
  const key = Buffer.allocUnsafe(parentKey.length + separator + name.length);
  key.set(parentKey, 0);
  if (separator === 1) key[parentKey.length] = 0;
  key.set(name, parentKey.length + separator);
  return key;
}

/** A walk entry; optional parts that are `undefined` are left out (the entry is compared and cloned as is). */
export function walkEntry(
  path: Buffer,
  key: Buffer,
  root: ScopeRoot,
  stat: StatSnapshot,
  optional: { readonly linkTarget?: Buffer | undefined; readonly readPath?: Buffer | undefined; readonly issue?: FileIssue | undefined },
): WalkEntry {
  const { linkTarget, readPath, issue } = optional;
  // Most entries have none of them: no spread of empty objects for those.
  if (linkTarget === undefined && readPath === undefined && issue === undefined) return { kind: 'entry', path, key, root, stat };
  return {
    kind: 'entry',
    path,
    key,
    root,
    stat,
    ...(linkTarget === undefined ? {} : { linkTarget }),
    ...(readPath === undefined ? {} : { readPath }),
    ...(issue === undefined ? {} : { issue }),
  };
}
