import type { CheckSet } from './check-set.js';
import type { CapturedContent } from './diff/content-capture.js';
import type { FileState } from './file-state.js';

/**
 * One path as a scan (or an agent's report) presents it to analysis: what is there now (absent when the path is
 * gone) and which attributes its configured directory checks. Analysis compares it with the trusted baseline.
 * `inBaseline` is the source's belief that the baseline holds the path; `false` lets analysis skip the lookup
 * (a scan merged with the baseline knows), and a remote source that cannot know says `true`.
 */
export interface Observation {
  readonly path: Buffer;
  readonly current?: FileState;
  readonly checks: CheckSet;
  readonly inBaseline: boolean;
  /** An agent's copy of a changed report_changes file's new content (or why there is none), for the manager to diff. */
  readonly content?: CapturedContent;
}
