import type { ScanStats } from './scan-stats.js';

/**
 * The subtrees a scan could not look into (the samples it kept, at most 256), other than a monitored directory
 * itself (that is rule 572), as the scan end carries them to the manager for rule 574: path base64, and why, one
 * line of printable text of at most 1,024 characters.
 */
export function unscannedSubtrees(stats: ScanStats): { readonly p: string; readonly reason: string }[] {
  return stats.unscannedSamples
    .filter(({ path }) => !stats.unscannableRoots.some((root) => root.path.equals(path)))
    .slice(0, 256)
    .map(({ path, issue }) => ({ p: path.toString('base64'), reason: `${issue.code}: ${issue.message}`.replace(/\p{Cc}/gu, ' ').slice(0, 1024) }));
}
