import type { ConfigIssue } from '../core/custos-error.js';
import { formatConfigIssue } from '../core/custos-error.js';

/** Prints configuration warnings on stderr, one per line, located like errors. */
export function reportWarnings(warnings: readonly ConfigIssue[]): void {
  for (const w of warnings) process.stderr.write(`custos: warning: ${formatConfigIssue(w)}\n`);
}
