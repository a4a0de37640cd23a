import { BUILTIN_RULES, CUSTOS_RULES, type RuleRef } from './builtin-rules.js';
import type { EventOutcome } from './event-record.js';
import type { FileChange } from './file-change.js';
import type { Judgement } from './known-hash-policy.js';

/** What analysis knows around one change when it decides whether to alert. */
export interface OutcomeContext {
  /** `accept`: an operator takes the current state as the baseline; nothing alerts. */
  readonly mode: 'check' | 'accept';
  /** Who accepts (for `accept`). */
  readonly actor?: string;
  /** True while the path's directory is having its first, baseline-building scan. */
  readonly firstScan: boolean;
  readonly alertNewFiles: boolean;
  /** The known-hash verdict for the change's new content. */
  readonly judgement: Judgement;
}

/** The decision for one change: record it, alert on it (with the rule), or neither. */
export type Outcome =
  | { readonly record: false }
  | { readonly record: true; readonly outcome: EventOutcome; readonly rule?: RuleRef; readonly reason?: string };

/**
 * Decides what a change leads to. A known-bad digest alerts at the top level, even while a baseline is first
 * built. Otherwise the first scan of a directory builds its baseline silently (a new monitored directory must not
 * flood); after that every change is recorded, and alerted unless a trusted package source explains it, it is a
 * new file with `alert_new_files` off, a directory coming or going, or it is being accepted.
 */
export function decideOutcome(change: FileChange, ctx: OutcomeContext): Outcome {
  const { effect, verdict } = ctx.judgement;
  if (ctx.mode === 'accept') {
    return { record: true, outcome: 'accepted', reason: `accepted by ${ctx.actor ?? 'unknown'}` };
  }
  if (effect === 'known-bad') return { record: true, outcome: 'alerted', rule: CUSTOS_RULES.knownBad };
  if (ctx.firstScan) {
    // Entries found while the baseline is first built are its content, not events.
    if (change.kind === 'added') return { record: false };
    return { record: true, outcome: 'recorded', reason: 'changed while the baseline was first being built' };
  }
  const rule = BUILTIN_RULES[change.kind];
  if (change.kind !== 'modified' && (change.kind === 'added' ? change.after : change.before).type === 'directory') {
    // A directory that appears or goes away brings its files' own events; alerting on it too only adds noise.
    // Its permission and ownership changes (modified) still alert.
    return { record: true, outcome: 'recorded', rule, reason: 'directories are recorded, their files alert' };
  }
  if (effect === 'silence') {
    const what = verdict.package === undefined ? verdict.source : `${verdict.package} ${verdict.version ?? ''} (${verdict.source})`;
    return { record: true, outcome: 'recorded', rule, reason: `known-good content: ${what}` };
  }
  if (effect === 'known-elsewhere') return { record: true, outcome: 'alerted', rule: CUSTOS_RULES.knownElsewhere };
  if (change.kind === 'added' && !ctx.alertNewFiles) {
    return { record: true, outcome: 'recorded', rule, reason: 'new files are not alerted (alert_new_files: no)' };
  }
  return { record: true, outcome: 'alerted', rule };
}
