import { DEFAULT_DIFF_CONFIG, type PathPattern, type SyscheckConfig } from '../config/custos-config.js';
import { compileOsMatch, type OsMatch } from '../os-match.js';
import { displayPath, isWithin, pathFromString, trimTrailingSlash } from '../path-bytes.js';
import { compileScanScope } from '../scan-scope.js';
import { MAX_CONTENT_BYTES } from './content-capture.js';

/**
 * Files whose content is never stored or diffed unless `diff.builtin_nodiff: no` (README: "Secrets in diffs"):
 * password and group shadow files, private keys, SSH host and user keys, and key stores.
 */
export const BUILTIN_NODIFF: readonly PathPattern[] = [
  { kind: 'path', source: '/etc/shadow' },
  { kind: 'path', source: '/etc/shadow-' },
  { kind: 'path', source: '/etc/gshadow' },
  { kind: 'path', source: '/etc/gshadow-' },
  { kind: 'path', source: '/etc/security/opasswd' },
  { kind: 'path', source: '/etc/ssl/private' },
  { kind: 'sregex', source: '^/etc/ssh/ssh_host_' },
  { kind: 'sregex', source: '/.ssh/id_|/.ssh/identity' },
  { kind: 'sregex', source: '.key$|.pem$|.p12$|.pfx$|.jks$|.keystore$|.kdbx$' },
  { kind: 'sregex', source: '/.pgpass$|/.netrc$|/.git-credentials$|/.aws/credentials$|/.docker/config.json$' },
];

/** What to do with the content of one path. */
export type ContentDecision =
  | { readonly report: false }
  | { readonly report: true; readonly nodiff: true; readonly pattern: string }
  | { readonly report: true; readonly nodiff: false; readonly sizeLimitBytes: number };

/** Decides, per path, whether content is kept for diffs: `report_changes`, `nodiff` and `diff_size_limit`. */
export interface ContentPolicy {
  decide(path: Buffer): ContentDecision;
  /** True when some directory has `report_changes` on: without it no content is ever read. */
  readonly anyReport: boolean;
}

interface CompiledNodiff {
  readonly source: string;
  readonly path?: Buffer;
  readonly match?: OsMatch;
}

/** Compiles the policy of a configuration (pure). */
export function compileContentPolicy(syscheck: SyscheckConfig): ContentPolicy {
  const scope = compileScanScope(syscheck);
  const diff = syscheck.diff ?? DEFAULT_DIFF_CONFIG;
  const nodiff = [...syscheck.nodiff, ...(diff.builtinNodiff ? BUILTIN_NODIFF : [])].map(compileNodiff);
  return {
    anyReport: syscheck.directories.some((d) => d.reportChanges),
    decide(path: Buffer): ContentDecision {
      const root = scope.governing(path);
      if (root === undefined || !root.directory.reportChanges) return { report: false };
      const hit = matchNodiff(path, nodiff);
      if (hit !== undefined) return { report: true, nodiff: true, pattern: hit };
      // A lifted limit (`file_size` disabled, a huge `diff_size_limit`) still never reads more than a diff is made of.
      return { report: true, nodiff: false, sizeLimitBytes: Math.min(root.directory.diffSizeLimitBytes ?? diff.fileSizeLimitBytes, MAX_CONTENT_BYTES) };
    },
  };
}

/**
 * The nodiff pattern (user's, then built-in) that matches a path, if any: the manager applies the built-in ones
 * to content an agent sends, whatever the agent's own configuration says.
 */
export function nodiffMatch(path: Buffer, patterns: readonly PathPattern[]): string | undefined {
  return matchNodiff(path, patterns.map(compileNodiff));
}

function compileNodiff(p: PathPattern): CompiledNodiff {
  return p.kind === 'path' ? { source: p.source, path: trimTrailingSlash(pathFromString(p.source)) } : { source: p.source, match: compileOsMatch(p.source) };
}

function matchNodiff(path: Buffer, patterns: readonly CompiledNodiff[]): string | undefined {
  let display: string | undefined;
  for (const p of patterns) {
    if (p.path !== undefined ? isWithin(path, p.path) : p.match?.test((display ??= displayPath(path))) === true) return p.source;
  }
  return undefined;
}
