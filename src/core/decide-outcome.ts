import { BUILTIN_RULES, type RuleRef } from './builtin-rules.js';
import type { EventOutcome } from './event-record.js';
import type { FileChange } from './file-change.js';

/** What analysis knows around one change when it decides whether to alert. */
export interface OutcomeContext {
  /** `accept`: an operator takes the current state as the baseline; nothing alerts. */
  readonly mode: 'check' | 'accept';
  /** Who accepts (for `accept`). */
  readonly actor?: string;
  /** True while the path's directory is having its first, baseline-building scan. */
  readonly firstScan: boolean;
  readonly alertNewFiles: boolean;
}

/** The decision for one change: record it, alert on it (with the rule), or neither. */
export type Outcome =
  | { readonly record: false }
  | { readonly record: true; readonly outcome: EventOutcome; readonly rule?: RuleRef; readonly reason?: string };

/**
 * Decides what a change leads to. The first scan of a directory builds its baseline silently (a new monitored
 * directory must not flood); after that every change is recorded, and alerted unless it is a new file with
 * `alert_new_files` off, or an accepted one.
 */
export function decideOutcome(change: FileChange, ctx: OutcomeContext): Outcome {
  if (ctx.mode === 'accept') {
    return { record: true, outcome: 'accepted', reason: `accepted by ${ctx.actor ?? 'unknown'}` };
  }
  if (ctx.firstScan) {
    // Entries found while the baseline is first built are its content, not events.
    if (change.kind === 'added') return { record: false };
    return { record: true, outcome: 'recorded', reason: 'changed while the baseline was first being built' };
  }
  const rule = BUILTIN_RULES[change.kind];
  if (change.kind === 'added' && !ctx.alertNewFiles) {
    return { record: true, outcome: 'recorded', rule, reason: 'new files are not alerted (alert_new_files: no)' };
  }
  return { record: true, outcome: 'alerted', rule };
}
