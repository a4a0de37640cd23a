import type { ConfigIssue } from '../custos-error.js';

/** What the `ossec.conf` section readers fill: the `custos.yml`-shaped object, the line of each dotted key, warnings. */
export interface Collected {
  readonly object: Record<string, unknown>;
  readonly lines: Map<string, number>;
  readonly warnings: ConfigIssue[];
}
