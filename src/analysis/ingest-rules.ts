import { decideNoise, type NoiseState } from '../core/auto-ignore.js';
import type { AlertParts } from '../core/build-alert.js';
import type { RuleRef } from '../core/builtin-rules.js';
import { decideFromRule, type Decision } from '../core/decide-outcome.js';
import type { FileChange } from '../core/file-change.js';
import type { Judgement } from '../core/known-hash-policy.js';
import { buildRuleInput } from '../core/rules/rule-input.js';
import type { SyscheckDecoder } from '../core/rules/rule-definition.js';
import type { RuleSet } from '../core/rules/rule-set.js';
import type { IngestDeps, IngestOptions } from './ingest-types.js';

/**
 * How many times each rule has fired in this process, per rule set, as Wazuh's analysisd counts `firedtimes`
 * (from its start, in memory). A rule with `<options>no_counter` reports the count without adding to it.
 */
const firedCounts = new WeakMap<RuleSet, Map<number, number>>();

/** The rule's count with this alert (`pending`: this run's uncommitted firings, updated). */
export function firedTimesOf(rules: RuleSet, pending: Map<number, number>, ruleId: number, counted: boolean): number {
  const mine = (pending.get(ruleId) ?? 0) + (counted ? 1 : 0);
  pending.set(ruleId, mine);
  return (firedCounts.get(rules)?.get(ruleId) ?? 0) + mine;
}

/** Once committed, a run's firings count for everything after it. */
export function countFired(rules: RuleSet, pending: Map<number, number>): void {
  if (pending.size === 0) return;
  let counts = firedCounts.get(rules);
  if (counts === undefined) firedCounts.set(rules, (counts = new Map<number, number>()));
  for (const [id, times] of pending) counts.set(id, (counts.get(id) ?? 0) + times);
  pending.clear();
}

/** Runs the rules for a change, then auto-ignore for a modification that would alert. */
export async function applyRules(
  change: FileChange,
  parts: AlertParts,
  judgement: Judgement,
  now: Date,
  deps: IngestDeps,
  options: IngestOptions,
  noise: { path: Buffer; state: NoiseState }[],
  decoder: SyscheckDecoder | undefined,
): Promise<{ outcome: Decision; noCounter: boolean }> {
  const input = buildRuleInput({ parts, verdict: judgement.verdict, agent: options.agent, now: now.getTime(), ...(decoder === undefined ? {} : { decoder }) });
  const { rule } = deps.rules.evaluate(input, deps.correlation);
  const result = rule === undefined ? undefined : { rule: toRuleRef(rule), noLog: rule.noLog };
  let decision;
  if (options.autoIgnore.enabled && change.kind === 'modified' && result !== undefined && result.rule.level > 0) {
    // The pending batch may already hold this file's newer counters (it changed twice in one run is rare, but
    // a realtime agent sends exactly that).
    const pending = noise.findLast((n) => n.path.equals(change.path))?.state;
    decision = decideNoise(pending ?? (await deps.store.getNoise(options.agent.id, change.path)), now.getTime(), options.autoIgnore);
    noise.push({ path: change.path, state: decision.state });
  }
  return { outcome: decideFromRule(result, decision), noCounter: rule?.noCounter === true };
}

type RuleLike = { id: number; level: number; description: string; groups: readonly string[]; mitre?: readonly string[]; email?: 'always' | 'never' };
// A rule's reference is the same for every event it matches: built once per rule, not once per event (ingest).
const ruleRefs = new WeakMap<RuleLike, RuleRef>();

function toRuleRef(rule: RuleLike): RuleRef {
  let ref = ruleRefs.get(rule);
  if (ref === undefined) {
    const base = {
      id: rule.id,
      level: rule.level,
      description: rule.description,
      groups: rule.groups,
      ...(rule.email === undefined ? {} : { email: rule.email }),
    };
    ref = rule.mitre === undefined || rule.mitre.length === 0 ? base : { ...base, mitre: { id: rule.mitre } };
    ruleRefs.set(rule, ref);
  }
  return ref;
}
