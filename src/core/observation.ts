import type { CheckSet } from './check-set.js';
import type { FileState } from './file-state.js';

/**
 * One path as a scan (or an agent's report) presents it to analysis: what the baseline held, what is there now
 * (absent when the path is gone), and which attributes its configured directory checks.
 */
export interface Observation {
  readonly previous?: FileState;
  readonly current?: FileState;
  readonly checks: CheckSet;
}
