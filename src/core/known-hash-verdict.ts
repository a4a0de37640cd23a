/**
 * What the known-hash database says about a change's new content. Until a known-hash database is consulted,
 * every change is `unknown`.
 */
export const VERDICTS = ['known-good', 'known-bad', 'known-elsewhere', 'unknown'] as const;
export type VerdictKind = (typeof VERDICTS)[number];

/** A verdict with the evidence behind it, as carried in `known_hash` of an alert and on every recorded event. */
export interface KnownHashVerdict {
  readonly verdict: VerdictKind;
  /** Where the matching hash came from (`deb-verified`, `dpkg-local`, `nsrl`, ...). */
  readonly source?: string;
  readonly package?: string;
  readonly version?: string;
  /** How it matched: `path+sha256`, `sha256`, `md5`, ... */
  readonly match?: string;
}

/** The verdict for a change nobody has explained. */
export const UNKNOWN_VERDICT: KnownHashVerdict = Object.freeze({ verdict: 'unknown' });
