import { configIssue, type ConfigIssue } from '../custos-error.js';
import { err, ok, type Result } from '../result.js';
import type { RuleDefinition, SyscheckDecoder } from './rule-definition.js';

/** What a rule is tested against: one FIM event, seen as OSSEC's analysisd sees it. */
export interface RuleInput {
  readonly decoder: SyscheckDecoder;
  /** The alert text, OSSEC's `full_log`: what `<match>` and `<regex>` read. */
  readonly fullLog: string;
  /** What `<hostname>` reads: `(name) any->syscheck` for an agent, the host name in standalone mode. */
  readonly hostname: string;
  /** The agent, for `<same_location />` correlation. */
  readonly location: string;
  /** A field of the alert by dotted name (`syscheck.path`) or Wazuh's short names (`file`, `sha256`). */
  field(name: string): string | undefined;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** One rule tried while evaluating an event, in order, with why it did not match. */
export interface RuleTrace {
  readonly id: number;
  readonly level: number;
  readonly matched: boolean;
  readonly reason?: string;
}

/** The rule an event ends at (the deepest matching one) and every rule tried on the way. */
export interface RuleEvaluation {
  readonly rule: RuleDefinition | undefined;
  readonly tried: readonly RuleTrace[];
}

/** Timestamps of recent matches, for `<if_matched_sid>` with `frequency`/`timeframe`. Mutable by design. */
export interface CorrelationState {
  readonly matches: Map<string, number[]>;
}

/** An empty correlation state. */
export function newCorrelationState(): CorrelationState {
  return { matches: new Map() };
}

interface Node {
  readonly rule: RuleDefinition;
  readonly children: Node[];
}

/**
 * A compiled OSSEC rule tree for FIM events. Rules without a parent condition are roots; `<if_sid>` hangs a rule
 * under those ids, `<if_group>` under every rule of that group, `<if_matched_sid>` under the sids it counts.
 * Siblings are tried highest level first, except that level-0 rules are tried before all others (OSSEC loads them
 * as level 99), and the event ends at the deepest rule that matches. A level-0 result means "recorded, not
 * alerted".
 */
export class RuleSet {
  readonly rules: readonly RuleDefinition[];
  readonly #roots: readonly Node[];
  /** Rules whose matches some correlation rule counts, with the keys they are counted under (sid, or group). */
  readonly #tracked: ReadonlyMap<number, readonly string[]>;

  private constructor(rules: readonly RuleDefinition[], roots: readonly Node[], tracked: ReadonlyMap<number, readonly string[]>) {
    this.rules = rules;
    this.#roots = roots;
    this.#tracked = tracked;
  }

  /**
   * Builds the tree from rule files in load order. A later rule with `overwrite="yes"` replaces the earlier one
   * with its id; a duplicate id otherwise, or a parent id that no rule has, is an error.
   */
  static compile(definitions: readonly RuleDefinition[]): Result<RuleSet, ConfigIssue[]> {
    const issues: ConfigIssue[] = [];
    const byId = new Map<number, RuleDefinition>();
    for (const rule of definitions) {
      if (byId.has(rule.id) && !rule.overwrite) {
        issues.push(configIssue(rule.source.file, rule.source.line, `rule ${rule.id}`, `duplicate rule id ${rule.id} (use overwrite="yes" to replace it)`));
        continue;
      }
      byId.set(rule.id, rule);
    }
    const rules = [...byId.values()];
    for (const rule of rules) {
      for (const parent of [...rule.ifSid, ...rule.ifMatchedSid]) {
        if (!byId.has(parent))
          issues.push(configIssue(rule.source.file, rule.source.line, `rule ${rule.id}`, `refers to rule ${parent}, which does not exist`));
      }
    }
    if (issues.length > 0) return err(issues);
    const nodes = new Map(rules.map((rule) => [rule.id, { rule, children: [] as Node[] }]));
    const roots: Node[] = [];
    for (const node of nodes.values()) {
      const { rule } = node;
      const parents = new Set<number>([...rule.ifSid, ...rule.ifMatchedSid]);
      // <if_matched_group> hangs a rule under every rule of the group, as <if_group> does (OSSEC's tree).
      for (const group of [...rule.ifGroup, ...rule.ifMatchedGroup])
        for (const other of rules) if (other.id !== rule.id && other.groups.includes(group)) parents.add(other.id);
      parents.delete(rule.id);
      if (parents.size === 0 && rule.ifGroup.length === 0 && rule.ifMatchedGroup.length === 0) roots.push(node);
      for (const parent of parents) nodes.get(parent)?.children.push(node);
    }
    const order = (a: Node, b: Node): number => rank(b.rule) - rank(a.rule);
    roots.sort(order);
    for (const node of nodes.values()) node.children.sort(order);
    const groups = new Set(rules.flatMap((r) => r.ifMatchedGroup));
    const tracked = new Map<number, string[]>();
    for (const rule of rules) {
      const keys = [
        ...(rules.some((r) => r.ifMatchedSid.includes(rule.id)) ? [String(rule.id)] : []),
        ...rule.groups.filter((g) => groups.has(g)).map(groupKey),
      ];
      if (keys.length > 0) tracked.set(rule.id, keys);
    }
    return ok(new RuleSet(rules, roots, tracked));
  }

  /**
   * The decoders of a file's 2nd and 3rd change that some rule asks for (OSSEC's 551 and 552 do): only then does
   * analysis count a file's earlier changes, and only then is such a change decoded as one.
   */
  get repeatDecoders(): ReadonlySet<SyscheckDecoder> {
    return new Set(
      this.rules.flatMap((r) => (r.decodedAs === 'syscheck_integrity_changed_2nd' || r.decodedAs === 'syscheck_integrity_changed_3rd' ? [r.decodedAs] : [])),
    );
  }

  /**
   * Evaluates one event; `state` remembers matches for frequency rules and is updated. With `trace`, every rule
   * tried is listed with why it did not match (for `custos rules test`); without, nothing is allocated for it.
   */
  evaluate(input: RuleInput, state: CorrelationState, trace = false): RuleEvaluation {
    const tried: RuleTrace[] | undefined = trace ? [] : undefined;
    for (const root of this.#roots) {
      const found = this.#descend(root, input, state, tried);
      if (found !== undefined) return { rule: found, tried: tried ?? [] };
    }
    return { rule: undefined, tried: tried ?? [] };
  }

  #descend(node: Node, input: RuleInput, state: CorrelationState, tried: RuleTrace[] | undefined): RuleDefinition | undefined {
    const failed = mismatch(node.rule, input, state);
    if (tried !== undefined) {
      const { id, level } = node.rule;
      tried.push(failed === undefined ? { id, level, matched: true } : { id, level, matched: false, reason: explain(node.rule, failed, input, state) });
    }
    if (failed !== undefined) return undefined;
    for (const counted of this.#tracked.get(node.rule.id) ?? []) remember(state, key(counted, input), input.now);
    if (correlates(node.rule)) forget(state, node.rule, input);
    for (const child of node.children) {
      const found = this.#descend(child, input, state, tried);
      if (found !== undefined) return found;
    }
    return node.rule;
  }
}

// Level 0 first (OSSEC loads it as 99), then highest level first; sort is stable, so load order breaks ties.
function rank(rule: RuleDefinition): number {
  return rule.level === 0 ? 99 : rule.level;
}

/** Which condition of a rule fails for an event (an index into the rule's checks), or `undefined` when it matches. */
type Failure = 'decoded_as' | 'match' | 'regex' | 'pcre2' | 'hostname' | { field: number } | { list: number } | 'frequency';

// Cheapest and most selective first: the decoder, the short hostname, the (memoized) fields, and only then the
// patterns over the whole alert text. All conditions must hold, so the order changes speed, not results.
function mismatch(rule: RuleDefinition, input: RuleInput, state: CorrelationState): Failure | undefined {
  if (rule.decodedAs !== undefined && rule.decodedAs !== input.decoder) return 'decoded_as';
  if (rule.hostname !== undefined && !rule.hostname.test(input.hostname)) return 'hostname';
  for (let i = 0; i < rule.fields.length; i++) {
    const f = rule.fields[i] as RuleDefinition['fields'][number];
    const value = input.field(f.name);
    if (value === undefined || !f.regex.test(value)) return { field: i };
  }
  for (let i = 0; i < rule.lists.length; i++) {
    const list = rule.lists[i] as RuleDefinition['lists'][number];
    const value = input.field(list.field);
    const entry = value === undefined ? undefined : list.entries.get(value.toLowerCase());
    const ok =
      list.lookup === 'not_match_key'
        ? entry === undefined
        : entry !== undefined && (list.lookup === 'match_key' || list.checkValue === undefined || list.checkValue.test(entry));
    if (!ok) return { list: i };
  }
  if (rule.match !== undefined && !rule.match.test(input.fullLog)) return 'match';
  if (rule.regex !== undefined && !rule.regex.test(input.fullLog)) return 'regex';
  if (rule.pcre2 !== undefined && !rule.pcre2.test(input.fullLog)) return 'pcre2';
  if (correlates(rule) && countMatches(rule, input, state) < (rule.frequency ?? 1)) return 'frequency';
  return undefined;
}

function correlates(rule: RuleDefinition): boolean {
  return rule.ifMatchedSid.length > 0 || rule.ifMatchedGroup.length > 0;
}

/** What a correlation rule counts: the sids it names and the groups it names, each a key of the state. */
function countedKeys(rule: RuleDefinition): string[] {
  return [...rule.ifMatchedSid.map(String), ...rule.ifMatchedGroup.map(groupKey)];
}

function groupKey(group: string): string {
  return `group:${group}`;
}

function countMatches(rule: RuleDefinition, input: RuleInput, state: CorrelationState): number {
  const window = input.now - (rule.timeframeMs ?? 0);
  let count = 0;
  for (const counted of countedKeys(rule)) count += (state.matches.get(key(counted, input, rule.sameLocation)) ?? []).filter((t) => t > window).length;
  return count;
}

/** Why a condition failed, in the rule's own words (only built when tracing). */
function explain(rule: RuleDefinition, failure: Failure, input: RuleInput, state: CorrelationState): string {
  if (failure === 'decoded_as') return `decoded_as ${rule.decodedAs ?? ''}`;
  if (failure === 'match') return `<match>${rule.match?.source ?? ''}</match>`;
  if (failure === 'regex') return `<regex>${rule.regex?.source ?? ''}</regex>`;
  if (failure === 'pcre2') return `<pcre2>${rule.pcre2?.source ?? ''}</pcre2>`;
  if (failure === 'hostname') return `<hostname>${rule.hostname?.source ?? ''}</hostname>`;
  if (failure === 'frequency')
    return `${countMatches(rule, input, state)} of ${rule.frequency ?? 1} matches of ${countedKeys(rule).join(',')} within ${(rule.timeframeMs ?? 0) / 1000}s`;
  if ('field' in failure) {
    const f = rule.fields[failure.field];
    return `<field name="${f?.name ?? ''}">${f?.regex.source ?? ''}</field>`;
  }
  const l = rule.lists[failure.list];
  return `<list field="${l?.field ?? ''}" lookup="${l?.lookup ?? ''}">${l?.path ?? ''}</list>`;
}

function key(counted: string, input: RuleInput, sameLocation = true): string {
  return sameLocation ? `${counted}@${input.location}` : counted;
}

function remember(state: CorrelationState, k: string, now: number): void {
  // Matches are kept both per location and across locations, so either kind of rule can count them.
  for (const name of [k, k.slice(0, k.lastIndexOf('@'))]) {
    const list = state.matches.get(name) ?? [];
    list.push(now);
    if (list.length > 10_000) list.splice(0, list.length - 10_000);
    state.matches.set(name, list);
  }
}

/** After a frequency rule fires, the matches it counted are spent, so it does not fire on every next event. */
function forget(state: CorrelationState, rule: RuleDefinition, input: RuleInput): void {
  for (const counted of countedKeys(rule)) {
    state.matches.delete(key(counted, input, true));
    state.matches.delete(key(counted, input, false));
  }
}

/** The correlation state as JSON text, dropping matches older than `keepMs` (they can no longer count). */
export function serializeCorrelation(state: CorrelationState, now: number, keepMs = 86_400_000): string {
  const out: Record<string, number[]> = {};
  for (const [k, times] of state.matches) {
    const recent = times.filter((t) => t > now - keepMs);
    if (recent.length > 0) out[k] = recent;
  }
  return JSON.stringify(out);
}

/** Reads state written by {@link serializeCorrelation}; anything malformed starts afresh. */
export function parseCorrelation(text: string | undefined): CorrelationState {
  const state = newCorrelationState();
  if (text === undefined) return state;
  try {
    const data = JSON.parse(text) as Record<string, unknown>;
    for (const [k, v] of Object.entries(data)) {
      if (Array.isArray(v) && v.every((t) => typeof t === 'number')) state.matches.set(k, v);
    }
  } catch {
    // a corrupt value only costs the frequency rules their memory
  }
  return state;
}
