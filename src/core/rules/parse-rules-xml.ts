import { configIssue, type ConfigIssue } from '../custos-error.js';
import { compileOsMatch } from '../os-match.js';
import { compileOsRegex, type OsRegex } from '../os-regex.js';
import { compilePcre2 } from '../pcre2.js';
import { err, ok, type Result } from '../result.js';
import { childrenOf, parseXmlTree, tagOf, textOf, type XmlNode } from '../xml-tree.js';
import { LIST_LOOKUPS, SYSCHECK_DECODERS, type ListCondition, type ListLookup, type RuleDefinition, type SyscheckDecoder } from './rule-definition.js';

/** Resolves a `<list>` path (as written) to its loaded entries; `undefined` when it could not be read. */
export type ListResolver = (path: string) => ReadonlyMap<string, string> | undefined;

const RULE_ATTRIBUTES = new Set(['id', 'level', 'frequency', 'timeframe', 'overwrite']);

/**
 * Tags of log rules: they test fields only log decoders fill (addresses, users, programs, URLs) or correlate
 * on them. A rule with one can never match a FIM event.
 */
const LOG_ONLY_TAGS = new Set([
  'srcip',
  'dstip',
  'srcport',
  'dstport',
  'srcgeoip',
  'dstgeoip',
  'user',
  'program_name',
  'url',
  'id',
  'status',
  'extra_data',
  'action',
  'protocol',
  'system_name',
  'data',
  'if_fts',
  'check_diff',
  'same_source_ip',
  'same_srcip',
  'same_dst_port',
  'same_src_port',
  'same_user',
  'same_srcuser',
  'same_id',
  'same_protocol',
  'same_action',
  'same_url',
  'same_data',
  'same_extra_data',
  'same_status',
  'same_system_name',
  'same_srcgeoip',
  'same_dstgeoip',
  'same_field',
  'different_url',
  'different_srcip',
  'different_srcgeoip',
  'different_field',
  'not_same_source_ip',
  'not_same_user',
  'not_same_id',
  'not_same_agent',
  'not_same_field',
]);

/** OSSEC's and Wazuh's other syscheck decoders (none is raised for Linux files): a FIM rule naming one is skipped. */
const UNSUPPORTED_SYSCHECK_DECODER = /^syscheck_/;

/** Wazuh's registry events (594-598): there is no registry on Linux, so these rules are log rules here. */
const WINDOWS_ONLY_DECODER = /^syscheck_registry/;

/** Tags that describe a rule without changing what it matches. */
const DESCRIPTIVE_TAGS = new Set(['info', 'mitre', 'description', 'group']);

/**
 * One `<rule>` as read, before Custos decides whether it applies to FIM events: its definition, the problems in
 * its values (errors only for rules that can match a FIM event), the first tag that makes it a log rule, and
 * any tag or attribute a FIM rule would need that Custos does not support.
 */
export interface ParsedRule {
  readonly definition: RuleDefinition;
  readonly issues: readonly ConfigIssue[];
  /** The first tag that makes it a log rule, as written (`<srcip>`, `<decoded_as>sshd`). */
  readonly logOnly?: { readonly tag: string; readonly line?: number };
  readonly unsupported: readonly { readonly tag: string; readonly line?: number }[];
}

/**
 * Parses an OSSEC or Wazuh rules file (`<var>` definitions and `<group name="..."><rule id level>...</rule></group>`)
 * into rules, each with what {@link selectFimRules} needs to keep or skip it. Malformed XML and a file that is
 * not a rules file are errors with their line; a rule's own problems travel with the rule, because a log rule
 * (most of a stock rule set) is skipped whatever it contains, while a FIM rule that quietly matched differently
 * than it reads would be worse than one that does not load.
 */
export function parseRulesXml(text: string, file: string, lists: ListResolver): Result<ParsedRule[], ConfigIssue[]> {
  const parsed = parseXmlTree(text);
  if (!parsed.ok) return err([{ file, line: parsed.error.line, key: '', message: parsed.error.message }]);
  const { roots, lineOf } = parsed.value;
  const issues: ConfigIssue[] = [];
  const rules: ParsedRule[] = [];
  const variables = new Map<string, string>();
  for (const group of roots) {
    const tag = tagOf(group);
    if (tag === 'var') {
      const name = group[':@']?.name;
      if (name === undefined || name === '') issues.push(configIssue(file, lineOf(group), 'var', 'a <var> needs a name'));
      else variables.set(name, textOf(group, 'var'));
      continue;
    }
    if (tag !== 'group') {
      issues.push(configIssue(file, lineOf(group), tag ?? '', `only <var> and <group name="..."> may be at the top of a rules file, not <${tag}>`));
      continue;
    }
    const groupNames = splitList(group[':@']?.name ?? '');
    if (groupNames.length === 0) issues.push(configIssue(file, lineOf(group), 'group', 'a <group> needs a name'));
    for (const node of childrenOf(group, 'group')) {
      if (tagOf(node) !== 'rule') {
        issues.push(configIssue(file, lineOf(node), tagOf(node) ?? '', `only <rule> may be inside <group>, not <${tagOf(node)}>`));
        continue;
      }
      rules.push(parseRule(node, groupNames, file, lineOf, lists, variables));
    }
  }
  return issues.length > 0 ? err(issues) : ok(rules);
}

function parseRule(
  node: XmlNode,
  groupNames: readonly string[],
  file: string,
  lineOf: (node: XmlNode) => number | undefined,
  lists: ListResolver,
  variables: ReadonlyMap<string, string>,
): ParsedRule {
  const issues: ConfigIssue[] = [];
  const unsupported: { tag: string; line?: number }[] = [];
  let logOnly: { tag: string; line?: number } | undefined;
  const line = lineOf(node);
  const attrs = node[':@'] ?? {};
  const id = Number(attrs.id);
  const key = `rule ${attrs.id ?? '?'}`;
  const problem = (message: string, at: number | undefined = line, where = key): void => {
    issues.push(configIssue(file, at, where, message));
  };
  const unsupportedAt = (tag: string, at: number | undefined): void => {
    unsupported.push(at === undefined ? { tag } : { tag, line: at });
  };
  for (const name of Object.keys(attrs)) if (!RULE_ATTRIBUTES.has(name)) unsupportedAt(`attribute "${name}"`, line);
  if (!Number.isInteger(id) || id < 1 || id > 999_999) problem('id must be a whole number from 1 to 999999');
  const level = Number(attrs.level);
  if (!Number.isInteger(level) || level < 0 || level > 16) problem('level must be a whole number from 0 to 16');
  const rule: { -readonly [K in keyof RuleDefinition]: RuleDefinition[K] } = {
    id,
    level,
    description: '',
    groups: [...groupNames],
    ifSid: [],
    ifGroup: [],
    ifMatchedSid: [],
    ifMatchedGroup: [],
    sameLocation: false,
    fields: [],
    lists: [],
    noLog: false,
    noCounter: false,
    overwrite: attrs.overwrite === 'yes',
    source: line === undefined ? { file } : { file, line },
  };
  if (attrs.frequency !== undefined) rule.frequency = positiveInt(attrs.frequency, 'frequency', problem);
  if (attrs.timeframe !== undefined) rule.timeframeMs = positiveInt(attrs.timeframe, 'timeframe', problem) * 1000;
  const matches: string[] = [];
  const regexes: string[] = [];
  const pcre2s: string[] = [];
  for (const child of childrenOf(node, 'rule')) {
    const tag = tagOf(child) ?? '';
    const at = lineOf(child);
    if (LOG_ONLY_TAGS.has(tag)) {
      logOnly ??= at === undefined ? { tag: `<${tag}>` } : { tag: `<${tag}>`, line: at };
      continue;
    }
    const value = substitute(tag === 'mitre' ? '' : textOf(child, tag), variables);
    const where = `${key}: <${tag}>`;
    const childAttrs = child[':@'] ?? {};
    const unexpected = Object.keys(childAttrs).filter((a) => !(ALLOWED_CHILD_ATTRIBUTES[tag] ?? []).includes(a));
    if (unexpected.length > 0 && !DESCRIPTIVE_TAGS.has(tag)) {
      for (const a of unexpected) unsupportedAt(`<${tag} ${a}="${childAttrs[a] ?? ''}">`, at);
      continue;
    }
    const compile = <T>(make: () => T): T | undefined => {
      try {
        return make();
      } catch (e) {
        problem((e as Error).message, at, where);
        return undefined;
      }
    };
    switch (tag) {
      case 'if_sid':
      case 'if_matched_sid': {
        const ids = splitList(value).map(Number);
        if (ids.length === 0 || !ids.every((n) => Number.isInteger(n) && n > 0)) problem('expected rule ids separated by commas', at, where);
        if (tag === 'if_sid') rule.ifSid = [...rule.ifSid, ...ids];
        else rule.ifMatchedSid = [...rule.ifMatchedSid, ...ids];
        break;
      }
      case 'if_group':
        rule.ifGroup = [...rule.ifGroup, ...splitList(value)];
        break;
      case 'if_matched_group':
        rule.ifMatchedGroup = [...rule.ifMatchedGroup, ...splitList(value)];
        break;
      case 'decoded_as':
        if ((SYSCHECK_DECODERS as readonly string[]).includes(value)) rule.decodedAs = value as SyscheckDecoder;
        else if (UNSUPPORTED_SYSCHECK_DECODER.test(value) && !WINDOWS_ONLY_DECODER.test(value)) unsupportedAt(`<decoded_as>${value}`, at);
        else logOnly ??= at === undefined ? { tag: `<decoded_as>${value}` } : { tag: `<decoded_as>${value}`, line: at };
        break;
      case 'category':
        if (value !== 'ossec') logOnly ??= at === undefined ? { tag: `<category>${value}` } : { tag: `<category>${value}`, line: at };
        break;
      case 'info':
        break;
      case 'mitre':
        rule.mitre = [
          ...(rule.mitre ?? []),
          ...childrenOf(child, 'mitre')
            .filter((m) => tagOf(m) === 'id')
            .map((m) => textOf(m, 'id'))
            .filter((id) => id !== ''),
        ];
        break;
      case 'match':
      case 'regex':
      case 'pcre2': {
        // Wazuh's type="..." picks the flavour; <pcre2> is PCRE2 always.
        const flavour = tag === 'pcre2' ? 'pcre2' : (childAttrs.type ?? (tag === 'match' ? 'osmatch' : 'osregex'));
        if (flavour === 'osmatch') matches.push(value);
        else if (flavour === 'osregex') regexes.push(value);
        else if (flavour === 'pcre2') pcre2s.push(value);
        else unsupportedAt(`<${tag} type="${flavour}">`, at);
        break;
      }
      case 'hostname': {
        const m = compile(() => compileOsMatch(value));
        if (m !== undefined) rule.hostname = m;
        break;
      }
      case 'field': {
        const name = childAttrs.name;
        if (name === undefined || name === '') problem('a <field> needs a name', at, where);
        const type = childAttrs.type ?? 'osregex';
        if (type !== 'osregex' && type !== 'osmatch' && type !== 'pcre2') {
          unsupportedAt(`<field type="${type}">`, at);
          break;
        }
        const r = compile<OsRegex>(() => (type === 'osmatch' ? compileOsMatch(value) : type === 'pcre2' ? compilePcre2(value) : compileOsRegex(value)));
        if (r !== undefined && name !== undefined) rule.fields = [...rule.fields, { name, regex: r }];
        break;
      }
      case 'list': {
        const condition = parseList(childAttrs, value, lists, (m) => problem(m, at, where), compile);
        if (condition !== undefined) rule.lists = [...rule.lists, condition];
        break;
      }
      case 'description':
        rule.description = value;
        break;
      case 'group':
        rule.groups = [...rule.groups, ...splitList(value)];
        break;
      case 'same_location':
        rule.sameLocation = true;
        break;
      case 'options':
        for (const option of splitList(value)) {
          if (option === 'no_log') rule.noLog = true;
          else if (option === 'alert_by_email') rule.email = 'always';
          else if (option === 'no_email_alert') rule.email = 'never';
          else if (option === 'no_counter') rule.noCounter = true;
          // Custos runs no active responses: a rule that turns them off asks for nothing it would do.
          else if (option !== 'no_ar') unsupportedAt(`<options>${option}`, at);
        }
        break;
      default:
        unsupportedAt(`<${tag}>`, at);
    }
  }
  // Several <match> (or <regex>) in one rule are alternatives, as OSSEC concatenates them with "|".
  if (matches.length > 0) {
    const m = safe(
      () => compileOsMatch(matches.join('|')),
      (e) => problem(e, line, `${key}: <match>`),
    );
    if (m !== undefined) rule.match = m;
  }
  if (regexes.length > 0) {
    const r = safe(
      () => compileOsRegex(regexes.join('|')),
      (e) => problem(e, line, `${key}: <regex>`),
    );
    if (r !== undefined) rule.regex = r;
  }
  // Several PCRE2 patterns are alternatives too, like several <regex>; each is checked on its own first, so an
  // error names the pattern at fault.
  if (
    pcre2s.length > 0 &&
    pcre2s.every(
      (p) =>
        safe(
          () => compilePcre2(p),
          (e) => problem(e, line, `${key}: <pcre2>`),
        ) !== undefined,
    )
  ) {
    const r = safe(
      () => compilePcre2(pcre2s.map((p) => `(?:${p})`).join('|')),
      (e) => problem(e, line, `${key}: <pcre2>`),
    );
    if (r !== undefined) rule.pcre2 = r;
  }
  const correlates = rule.ifMatchedSid.length > 0 || rule.ifMatchedGroup.length > 0;
  // OSSEC's correlation rules may leave frequency out (its 40112: one earlier match within the timeframe).
  if (rule.frequency !== undefined && !correlates) problem('frequency goes with <if_matched_sid> or <if_matched_group>');
  if (correlates) rule.timeframeMs ??= 360_000;
  return { definition: rule, issues, unsupported, ...(logOnly === undefined ? {} : { logOnly }) };
}

/** OSSEC's `$NAME` references to a `<var>` of the same file; anything else is left as written. */
function substitute(value: string, variables: ReadonlyMap<string, string>): string {
  if (variables.size === 0 || !value.includes('$')) return value;
  return value.replace(/\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name: string) => variables.get(name) ?? whole);
}

const ALLOWED_CHILD_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  field: ['name', 'type'],
  match: ['type'],
  regex: ['type'],
  list: ['field', 'lookup', 'check_value'],
};

function parseList(
  attrs: Record<string, string>,
  path: string,
  lists: ListResolver,
  problem: (message: string) => void,
  compile: <T>(make: () => T) => T | undefined,
): ListCondition | undefined {
  const field = attrs.field;
  const lookup = attrs.lookup ?? 'match_key';
  if (field === undefined || field === '') problem('a <list> needs a field');
  if (!(LIST_LOOKUPS as readonly string[]).includes(lookup)) problem(`lookup "${lookup}" is not supported (${LIST_LOOKUPS.join(', ')})`);
  const entries = lists(path);
  if (entries === undefined) problem(`cannot read the list ${path}`);
  const checkValue = attrs.check_value === undefined ? undefined : compile(() => compileOsRegex(attrs.check_value as string));
  if (field === undefined || entries === undefined || !(LIST_LOOKUPS as readonly string[]).includes(lookup)) return undefined;
  return { field, lookup: lookup as ListLookup, path, entries, ...(checkValue === undefined ? {} : { checkValue }) };
}

function positiveInt(text: string, name: string, problem: (m: string) => void): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) problem(`${name} must be a positive whole number`);
  return n;
}

function safe<T>(make: () => T, onError: (message: string) => void): T | undefined {
  try {
    return make();
  } catch (e) {
    onError((e as Error).message);
    return undefined;
  }
}

/** OSSEC separates lists with commas (and sometimes spaces); empty items from trailing commas are dropped. */
function splitList(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
