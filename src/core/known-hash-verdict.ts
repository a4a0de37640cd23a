/**
 * What the known-hash database says about a change's new content:
 * - `known-good`: a trusted source ships exactly this content at this path (a package update)
 * - `known-bad`: a known-bad list has this content
 * - `known-elsewhere`: the content is known, but not for this path (another package's file, a hash-only set
 *   such as NSRL, or a source not trusted for this path)
 * - `other-version`: a package ships this content at this path, but in a version that is not the one installed
 *   (a downgrade to a vulnerable file, a file left from another version, a package that is not installed)
 * - `package-mismatch`: a package ships this content at this path, but not with this mode or owner (a setuid
 *   copy of a packaged binary, a file chowned to another user)
 * - `unknown`: nothing explains it
 */
export const VERDICTS = ['known-good', 'known-bad', 'known-elsewhere', 'other-version', 'package-mismatch', 'unknown'] as const;
export type VerdictKind = (typeof VERDICTS)[number];

/** A verdict with the evidence behind it, as carried in `known_hash` of an alert and on every recorded event. */
export interface KnownHashVerdict {
  readonly verdict: VerdictKind;
  /** Where the matching hash came from (`deb-verified`, `dpkg-local`, `nsrl`, ...). */
  readonly source?: string;
  readonly package?: string;
  readonly version?: string;
  readonly arch?: string;
  /** How it matched: `path+sha256`, `path+md5`, `sha256`, `md5`, ... */
  readonly match?: string;
  /** For `known-elsewhere`: the path the content is known at, when the source has one. */
  readonly known_path?: string;
  /** For `known-bad`: the label of the list entry (malware family, signature). */
  readonly label?: string;
  /** For `other-version`: the version installed ('' when the package is not installed at all). */
  readonly installed_version?: string;
  /** For `other-version`: how the content's version relates to the installed one. */
  readonly relation?: 'older' | 'newer' | 'not-installed' | 'other-architecture';
  /** For `package-mismatch`: what the package declares (`0755`, `root`, `root`), absent when no source declares a mode. */
  readonly declared_mode?: string;
  readonly declared_owner?: string;
  readonly declared_group?: string;
  /** For `package-mismatch`: `observed at import` when the declaration is what the host's file had when its MD5 matched. */
  readonly declared_by?: string;
  /** For `package-mismatch`: what the file has. */
  readonly actual_mode?: string;
  readonly actual_owner?: string;
  readonly actual_group?: string;
  /** For `package-mismatch`: what differs, one phrase each (`setuid bit not declared; owner nobody, declared root`). */
  readonly mismatch?: string;
  /** For an explained deletion (`match: removal`): why the path went (`removed with its package`, ...). */
  readonly reason?: string;
}

/** The verdict for a change nobody has explained. */
export const UNKNOWN_VERDICT: KnownHashVerdict = Object.freeze({ verdict: 'unknown' });
