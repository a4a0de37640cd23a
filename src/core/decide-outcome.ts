import type { NoiseDecision } from './auto-ignore.js';
import { CUSTOS_RULES, type RuleRef } from './builtin-rules.js';
import type { EventOutcome } from './event-record.js';
import type { FileChange } from './file-change.js';
import { isUnstable } from './file-state.js';
import type { Judgement } from './known-hash-policy.js';

/** An active maintenance window: changes are accepted without alerts until it ends. */
export interface MaintenanceRef {
  readonly id: number;
  readonly startedBy: string;
  readonly endsAt: string;
}

/** What analysis knows around one change before the rules run. */
export interface OutcomeContext {
  /** `accept`: an operator takes the current state as the baseline; nothing alerts. */
  readonly mode: 'check' | 'accept';
  /** Who accepts (for `accept`). */
  readonly actor?: string | undefined;
  /** True while the path's directory is having its first, baseline-building scan. */
  readonly firstScan: boolean;
  readonly alertNewFiles: boolean;
  /** The known-hash verdict for the change's new content. */
  readonly judgement: Judgement;
  readonly maintenance?: MaintenanceRef | undefined;
  /** The change's new MD5 is in OSSEC's md5 allowlist: the allowlist file, and the MD5. */
  readonly md5Allowlisted?: { readonly source: string; readonly md5: string } | undefined;
}

/**
 * The decision for one change. Each kind carries exactly what it needs, so an alert without a rule or a recorded
 * change without a reason cannot be written down:
 * - `baseline`: the change is part of a baseline being first built: the baseline takes it, the history does not;
 * - `accept`: an operator took the state as the baseline (history outcome `accepted`);
 * - `record`: kept in the history without an alert (`recorded`), with the rule it ended at when a rule decided;
 * - `alert`: kept in the history and alerted (`alerted`) with its rule; `rolledUp` (more than 0 when present) is
 *   how many changes auto-ignore rolled up before this alert; `noLog`: the rule's `no_log`, the alert is not output.
 */
export type Decision =
  | { readonly kind: 'baseline' }
  | { readonly kind: 'accept'; readonly reason: string }
  | { readonly kind: 'record'; readonly reason: string; readonly rule?: RuleRef }
  | { readonly kind: 'alert'; readonly rule: RuleRef; readonly reason?: string; readonly rolledUp?: number; readonly noLog?: true };

/** A decision taken before the rules, or `rules`: none of those applied, the rules decide. */
export type PreRuleDecision = Decision | { readonly kind: 'rules' };

/** The history outcome a decision writes (a `baseline` decision writes no history). */
export function eventOutcomeOf(decision: Exclude<Decision, { readonly kind: 'baseline' }>): EventOutcome {
  switch (decision.kind) {
    case 'accept':
      return 'accepted';
    case 'record':
      return 'recorded';
    case 'alert':
      return 'alerted';
  }
}

/**
 * The decisions taken before any rule runs, in order: an accepted change is recorded as accepted; a known-bad
 * digest alerts at the top level whatever else says, even while a baseline is first built; the first scan of a
 * directory builds its baseline silently; a file that kept changing while it was read alerts (rule 578), and so does a directory mounted over or replaced (579) (a newly monitored directory must not flood); a directory coming or
 * going is recorded (its files report themselves); packaged content with a mode or owner its package does not ship
 * alerts (575); content a trusted package explains at its path is recorded with that evidence; a maintenance window accepts; new files do not alert with `alert_new_files: no`.
 * `rules` means none of these applied: the rules decide. A first scan's new entry is `baseline` (no history).
 */
export function decideBeforeRules(change: FileChange, ctx: OutcomeContext): PreRuleDecision {
  const { effect, verdict } = ctx.judgement;
  if (ctx.mode === 'accept') return { kind: 'accept', reason: `accepted by ${ctx.actor ?? 'unknown'}` };
  if (effect === 'known-bad') return { kind: 'alert', rule: CUSTOS_RULES.knownBad };
  if (ctx.firstScan) {
    // Entries found while the baseline is first built are its content, not events.
    if (change.kind === 'added') return { kind: 'baseline' };
    return { kind: 'record', reason: 'changed while the baseline was first being built' };
  }
  // Nothing may explain away a file that never read the same twice: not a package, a window or a rule.
  if (change.kind !== 'deleted' && isUnstable(change.after)) {
    return { kind: 'alert', rule: CUSTOS_RULES.fileUnstable, reason: 'the file kept changing while it was read' };
  }
  if (change.kind === 'modified' && change.before.type === 'directory' && change.after.type === 'directory' && identityChanged(change)) {
    // A mount over a monitored directory (tmpfs, a bind mount) or a directory swapped for another: the files
    // below report themselves, but the swap itself is the event an intruder would hide behind.
    const how = change.before.dev === change.after.dev ? 'its inode changed' : `its device changed from ${change.before.dev} to ${change.after.dev}`;
    return { kind: 'alert', rule: CUSTOS_RULES.directoryReplaced, reason: `directory mounted over or replaced: ${how}` };
  }
  // A new directory the scan could not enter (past recursion_level, or unreadable): its files cannot report
  // themselves, so the directory is the alert.
  const hidesContent = change.kind === 'added' && change.after.type === 'directory' && change.after.issues.some((i) => i.code === 'unreadable-directory');
  if (change.kind !== 'modified' && !hidesContent && (change.kind === 'added' ? change.after : change.before).type === 'directory') {
    return { kind: 'record', reason: 'directories are recorded, their files alert' };
  }
  // Packaged content with a mode or owner its package does not ship (a setuid copy): no allowlist, window or
  // alert_new_files setting explains that away.
  if (effect === 'package-mismatch')
    return { kind: 'alert', rule: CUSTOS_RULES.packageMismatch, reason: verdict.mismatch ?? 'mode or owner not as the package ships' };
  if (ctx.md5Allowlisted !== undefined && change.kind !== 'deleted') {
    // As OSSEC's analysisd: an allowlisted MD5 is not alerted, wherever the file is, new files included.
    return { kind: 'record', reason: `md5 allowlist ${ctx.md5Allowlisted.source}: ${ctx.md5Allowlisted.md5}` };
  }
  if (effect === 'silence') {
    const what = verdict.package === undefined ? verdict.source : `${verdict.package} ${verdict.version ?? ''} (${verdict.source})`;
    if (change.kind === 'deleted') return { kind: 'record', reason: `package removal: ${verdict.reason ?? 'removed'}, ${what}` };
    return { kind: 'record', reason: `known-good content: ${what}` };
  }
  if (ctx.maintenance !== undefined) {
    const m = ctx.maintenance;
    return { kind: 'record', reason: `maintenance window ${m.id} (started by ${m.startedBy}, until ${m.endsAt})` };
  }
  if (change.kind === 'added' && !ctx.alertNewFiles) return { kind: 'record', reason: 'new files are not alerted (alert_new_files: no)' };
  return { kind: 'rules' };
}

function identityChanged(change: Extract<FileChange, { kind: 'modified' }>): boolean {
  return change.before.dev !== change.after.dev || change.changedAttributes.includes('inode');
}

/** The rule an event ended at, as far as the outcome is concerned. */
export interface RuleResult {
  readonly rule: RuleRef;
  readonly noLog: boolean;
}

/**
 * The decision once the rules ran: no rule or a level-0 rule records without an alert (OSSEC's "ignore"); a
 * noisy file (auto-ignore) raises one roll-up alert, then records without alerting until it calms down.
 */
export function decideFromRule(result: RuleResult | undefined, noise: NoiseDecision | undefined): Decision {
  if (result === undefined) return { kind: 'record', reason: 'no rule matched' };
  const { rule, noLog } = result;
  if (rule.level === 0) return { kind: 'record', rule, reason: `rule ${rule.id} (level 0): ${rule.description}` };
  if (noise?.action === 'suppress') {
    return { kind: 'record', rule, reason: `rolled up: the file changes too often (change ${noise.state.changes} in this window)` };
  }
  if (noise?.action === 'roll-up') return { kind: 'alert', rule: CUSTOS_RULES.noisy };
  const rolledUp = noise?.rolledUpBefore ?? 0;
  return { kind: 'alert', rule, ...(rolledUp > 0 ? { rolledUp } : {}), ...(noLog ? { noLog } : {}) };
}
