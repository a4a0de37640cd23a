import { defaultDirectory } from './config/default-directory.js';
import type { DirectoryConfig, PathPattern, SyscheckConfig } from './config/custos-config.js';
import type { FileType } from './file-state.js';
import { compileOsMatch, type OsMatch } from './os-match.js';
import { depthBelow, isWithin, pathFromString, pathKey, trimTrailingSlash } from './path-bytes.js';

/** A configured directory, compiled for matching. */
export interface ScopeRoot {
  readonly path: Buffer;
  readonly key: Buffer;
  readonly directory: DirectoryConfig;
  readonly restrict?: OsMatch;
  readonly ignore: readonly CompiledPattern[];
}

interface CompiledPattern {
  readonly kind: 'path' | 'sregex';
  readonly path?: Buffer;
  readonly match?: OsMatch;
}

/**
 * Which paths a scan looks at, decided from the configuration alone (pure). The walker asks it what to visit;
 * the comparison asks it whether a baseline entry that was not seen is gone or merely no longer monitored.
 */
export interface ScanScope {
  /** What it was compiled from: enough to compile the same scope in another thread. */
  readonly source: { readonly syscheck: SyscheckConfig; readonly limitTo: readonly string[] };
  /** Every root this scope hands out, in a fixed order (the same for the same source). */
  readonly roots: readonly ScopeRoot[];
  /** Configured directories not inside another one, in walk (key) order: the scan walks each of these. */
  readonly topLevelRoots: readonly ScopeRoot[];
  /** The configured directory whose options govern `path` (the nearest one at or above it). */
  governing(path: Buffer): ScopeRoot | undefined;
  /** True when an `ignore` entry (global or of the governing directory) matches. */
  isIgnored(path: Buffer, root: ScopeRoot): boolean;
  /** True when an entry of this type at this path is monitored. */
  isMonitored(path: Buffer, type: FileType, root?: ScopeRoot): boolean;
  /** True when the walker should list this directory's entries. */
  shouldDescend(path: Buffer, root?: ScopeRoot): boolean;
  /** The root configured exactly at `path`, if any. */
  rootAt(path: Buffer): ScopeRoot | undefined;
}

/**
 * Compiles the scope of a scan. `limitTo` (paths given on the command line) narrows the scan to those subtrees;
 * a path outside every configured directory is scanned with default options (everything checked).
 */
export function compileScanScope(syscheck: SyscheckConfig, limitTo: readonly string[] = []): ScanScope {
  const globalIgnore = syscheck.ignore.map(compilePattern);
  const configured = syscheck.directories.map((d) => compileRoot(d));
  const byKey = new Map<string, ScopeRoot>();
  for (const root of configured) byKey.set(root.key.toString('latin1'), root);
  const findGoverning = (path: Buffer): ScopeRoot | undefined => {
    const trimmed = trimTrailingSlash(path);
    // The path itself, then each ancestor, ending with `/` (the prefix of length 1, not the empty one).
    for (let end = trimmed.length; end >= 1; end--) {
      if (end !== trimmed.length && end !== 1 && trimmed[end] !== 0x2f) continue;
      const root = byKey.get(pathKey(trimmed.subarray(0, end)).toString('latin1'));
      if (root !== undefined) return root;
    }
    return undefined;
  };
  let walkRoots: ScopeRoot[] = configured;
  if (limitTo.length > 0) {
    walkRoots = limitTo.map((p) => {
      const path = trimTrailingSlash(pathFromString(p));
      const governing = findGoverning(path);
      if (governing !== undefined) return { ...governing, path, key: pathKey(path) };
      const adHoc = compileRoot(defaultDirectory(p));
      byKey.set(adHoc.key.toString('latin1'), adHoc);
      return adHoc;
    });
  }
  const topLevelRoots = walkRoots
    .filter((r) => !walkRoots.some((other) => other !== r && !other.path.equals(r.path) && isWithin(r.path, other.path)))
    .filter((r, i, all) => all.findIndex((o) => o.path.equals(r.path)) === i)
    .sort((a, b) => Buffer.compare(a.key, b.key));
  const limits = topLevelRoots.map((r) => r.path);
  const inLimits = (path: Buffer): boolean => limits.some((l) => isWithin(path, l));
  const hasRootBelow = (path: Buffer): boolean => configured.some((r) => r.path.length > path.length && isWithin(r.path, path) && inLimits(r.path));

  const roots = [...new Set([...byKey.values(), ...configured, ...walkRoots])];
  const scope: ScanScope = {
    source: { syscheck, limitTo },
    roots,
    topLevelRoots,
    governing: findGoverning,
    rootAt: (path) => byKey.get(pathKey(trimTrailingSlash(path)).toString('latin1')),
    isIgnored(path, root) {
      return matchesAny(globalIgnore, path) || matchesAny(root.ignore, path);
    },
    isMonitored(path, type, root = findGoverning(path)) {
      if (root === undefined || !inLimits(path)) return false;
      if (depthBelow(path, root.path) > root.directory.recursionLevel + 1) return false;
      if (scope.isIgnored(path, root)) return false;
      if (type !== 'directory' && root.restrict !== undefined && !root.restrict.test(path.toString('utf8'))) return false;
      return true;
    },
    shouldDescend(path, root = findGoverning(path)) {
      if (hasRootBelow(path)) return true;
      if (root === undefined || !inLimits(path)) return false;
      return depthBelow(path, root.path) <= root.directory.recursionLevel && !scope.isIgnored(path, root);
    },
  };
  return scope;
}

function compileRoot(directory: DirectoryConfig): ScopeRoot {
  const path = trimTrailingSlash(pathFromString(directory.path));
  return {
    path,
    key: pathKey(path),
    directory,
    ...(directory.restrict === undefined ? {} : { restrict: compileOsMatch(directory.restrict) }),
    ignore: directory.ignore.map(compilePattern),
  };
}

function compilePattern(pattern: PathPattern): CompiledPattern {
  return pattern.kind === 'path'
    ? { kind: 'path', path: trimTrailingSlash(pathFromString(pattern.source)) }
    : { kind: 'sregex', match: compileOsMatch(pattern.source) };
}

function matchesAny(patterns: readonly CompiledPattern[], path: Buffer): boolean {
  if (patterns.length === 0) return false;
  let text: string | undefined;
  for (const p of patterns) {
    if (p.path !== undefined && isWithin(path, p.path)) return true;
    if (p.match !== undefined && p.match.test((text ??= path.toString('utf8')))) return true;
  }
  return false;
}
