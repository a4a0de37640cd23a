import { configIssue, type ConfigIssue } from '../custos-error.js';
import type { ParsedRule } from './parse-rules-xml.js';
import type { RuleDefinition } from './rule-definition.js';

/** The rules Custos evaluates, what refuses the rule set, and what was skipped and why. */
export interface FimRuleSelection {
  readonly definitions: readonly RuleDefinition[];
  readonly errors: readonly ConfigIssue[];
  readonly warnings: readonly ConfigIssue[];
}

/**
 * Picks the rules that apply to FIM events from whole rule sets, as shipped by OSSEC and Wazuh, where most rules
 * are about logs:
 * - a rule that can never match a FIM event is skipped: it tests a log field or decoder, hangs (`<if_sid>`)
 *   only under such rules, or names (`<if_group>`) only groups no FIM rule has. Each file gets one warning that
 *   counts them; their contents are never held against the file.
 * - a FIM rule that needs something Custos does not do is skipped with a warning naming file, line and tag,
 *   rather than matched wrongly, and so are the FIM rules below it.
 * - the problems in the values of the FIM rules that remain (level, patterns, lists) are errors.
 * A rule file that redefines one of `replaceable` ids (Custos's built-in 550, 553, 554, which every stock rule
 * set defines too) replaces it, as if it said `overwrite="yes"`; the first definition of such an id is taken to
 * be the built-in one (built-in rules load first).
 */
export function selectFimRules(parsed: readonly ParsedRule[], replaceable: ReadonlySet<number> = new Set()): FimRuleSelection {
  const notFim = new Set<ParsedRule>(parsed.filter((r) => r.logOnly !== undefined));
  const byId = new Map<number, ParsedRule[]>();
  for (const rule of parsed) byId.set(rule.definition.id, [...(byId.get(rule.definition.id) ?? []), rule]);
  const allIn = (ids: readonly number[], set: ReadonlySet<ParsedRule>): boolean =>
    ids.length > 0 && ids.every((id) => (byId.get(id) ?? []).length > 0 && (byId.get(id) ?? []).every((r) => set.has(r)));
  // Log rules hide their children: repeat until nothing more falls (a chain of if_sid can be long).
  for (let changed = true; changed;) {
    changed = false;
    for (const rule of parsed) {
      if (notFim.has(rule)) continue;
      const { ifSid, ifMatchedSid, ifGroup, ifMatchedGroup } = rule.definition;
      const parents = [...ifSid, ...ifMatchedSid];
      const groups = [...ifGroup, ...ifMatchedGroup];
      const orphaned =
        parents.length > 0
          ? allIn(parents, notFim)
          : groups.length > 0 && !groups.some((g) => parsed.some((o) => o !== rule && !notFim.has(o) && o.definition.groups.includes(g)));
      if (orphaned) {
        notFim.add(rule);
        changed = true;
      }
    }
  }
  const warnings: ConfigIssue[] = [];
  const dropped = new Set<ParsedRule>();
  for (const rule of parsed) {
    if (notFim.has(rule) || rule.unsupported.length === 0) continue;
    dropped.add(rule);
    for (const u of rule.unsupported) {
      warnings.push(
        configIssue(
          rule.definition.source.file,
          u.line ?? rule.definition.source.line,
          `rule ${rule.definition.id}: ${u.tag}`,
          'not supported by Custos for FIM rules: the rule is skipped',
        ),
      );
    }
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const rule of parsed) {
      if (notFim.has(rule) || dropped.has(rule)) continue;
      const parents = [...rule.definition.ifSid, ...rule.definition.ifMatchedSid];
      const gone = new Set([...notFim, ...dropped]);
      if (allIn(parents, gone)) {
        dropped.add(rule);
        changed = true;
        const parent = parents.find((id) => (byId.get(id) ?? []).some((r) => dropped.has(r)));
        warnings.push(
          configIssue(
            rule.definition.source.file,
            rule.definition.source.line,
            `rule ${rule.definition.id}`,
            `skipped: the rule it depends on (${parent ?? parents.join(',')}) was skipped`,
          ),
        );
      }
    }
  }
  const errors: ConfigIssue[] = [];
  const definitions: RuleDefinition[] = [];
  const builtinFile = parsed.find((r) => replaceable.has(r.definition.id))?.definition.source.file;
  for (const rule of parsed) {
    if (notFim.has(rule) || dropped.has(rule)) continue;
    if (rule.issues.length > 0) {
      errors.push(...rule.issues);
      continue;
    }
    const { definition } = rule;
    const replacesBuiltin = replaceable.has(definition.id) && definition.source.file !== builtinFile && !definition.overwrite;
    definitions.push(replacesBuiltin ? { ...definition, overwrite: true } : definition);
  }
  warnings.push(...skippedSummary(parsed, notFim));
  return { definitions, errors, warnings };
}

/** One warning per file: how many of its rules can never see a FIM event, with the first one as an example. */
function skippedSummary(parsed: readonly ParsedRule[], notFim: ReadonlySet<ParsedRule>): ConfigIssue[] {
  const perFile = new Map<string, ParsedRule[]>();
  for (const rule of parsed) if (notFim.has(rule)) perFile.set(rule.definition.source.file, [...(perFile.get(rule.definition.source.file) ?? []), rule]);
  return [...perFile].map(([file, rules]) => {
    const first = rules.find((r) => r.logOnly !== undefined) ?? rules[0];
    const example = first?.logOnly === undefined ? '' : `, e.g. rule ${first.definition.id}: ${first.logOnly.tag}`;
    return configIssue(
      file,
      undefined,
      'rules',
      `${rules.length} of ${parsed.filter((r) => r.definition.source.file === file).length} rules skipped: they can never match a FIM event (they need log decoders or fields FIM events do not have${example}, or hang only under such rules)`,
    );
  });
}
