import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { RulesConfig } from '../core/config/custos-config.js';
import { ConfigError, configIssue, type ConfigIssue } from '../core/custos-error.js';
import { parseCdbList } from '../core/rules/cdb-list.js';
import { parseRulesXml, type ParsedRule } from '../core/rules/parse-rules-xml.js';
import { RuleSet } from '../core/rules/rule-set.js';
import { selectFimRules } from '../core/rules/select-fim-rules.js';
import { packagePath } from '../platform/package-root.js';

/** Custos's built-in rules (550, 553, 554, 562, 573), shipped beside the code. */
export const BUILTIN_RULES_FILE = packagePath('rules/custos_rules.xml');

/** Ids of the built-in rules a stock OSSEC or Wazuh rule file defines too: the file's definition replaces ours. */
const REPLACEABLE_BUILTINS: ReadonlySet<number> = new Set([550, 553, 554]);

/**
 * Loads the built-in rules, then each configured rules file in order (OSSEC's `<include>` names; a bare name
 * missing beside the configuration is also looked for in `../rules/`, OSSEC's layout), reads the CDB lists they
 * name, keeps the rules that apply to FIM events ({@link selectFimRules}) and compiles the tree. Every problem in
 * every file is collected into one {@link ConfigError}; what was skipped goes to `warn`.
 */
export function loadRuleSet(
  config: readonly string[] | Pick<RulesConfig, 'files' | 'directories' | 'exclude'>,
  warn: (warnings: readonly ConfigIssue[]) => void = () => undefined,
): RuleSet {
  const issues: ConfigIssue[] = [];
  const parsedRules: ParsedRule[] = [];
  const { files, directories, exclude } = Array.isArray(config)
    ? { files: config as readonly string[], directories: [], exclude: [] }
    : (config as RulesConfig);
  const fromDirectories = directories.flatMap((dir) => rulesIn(dir, new Set(exclude), issues));
  for (const requested of [BUILTIN_RULES_FILE, ...files, ...fromDirectories]) {
    const file = locateRulesFile(requested);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      issues.push(configIssue(requested, undefined, '', `cannot read the rules file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
      continue;
    }
    const parsed = parseRulesXml(text, file, (listPath) => readList(listPath, file));
    if (parsed.ok) parsedRules.push(...parsed.value);
    else issues.push(...parsed.error);
  }
  const selected = selectFimRules(parsedRules, REPLACEABLE_BUILTINS);
  issues.push(...selected.errors);
  if (issues.length > 0) throw new ConfigError(issues);
  warn(selected.warnings);
  const compiled = RuleSet.compile(selected.definitions);
  if (!compiled.ok) throw new ConfigError(compiled.error);
  return compiled.value;
}

/** Wazuh's `<rule_dir>`: its `*.xml` files in name order, without the excluded names. */
function rulesIn(dir: string, exclude: ReadonlySet<string>, issues: ConfigIssue[]): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => name.endsWith('.xml') && !exclude.has(name))
      .sort()
      .map((name) => join(dir, name));
  } catch (error) {
    issues.push(configIssue(dir, undefined, '', `cannot read the rules directory: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
    return [];
  }
}

function locateRulesFile(path: string): string {
  if (existsSync(path)) return path;
  const ossecLayout = join(dirname(dirname(path)), 'rules', basename(path));
  return existsSync(ossecLayout) ? ossecLayout : path;
}

/** Lists are named relative to the rules file, or to OSSEC's install directory (`etc/lists/...`). */
function readList(listPath: string, rulesFile: string): Map<string, string> | undefined {
  const dir = dirname(rulesFile);
  const candidates = isAbsolute(listPath) ? [listPath] : [join(dir, listPath), join(dirname(dir), listPath), join(dirname(dirname(dir)), listPath)];
  for (const candidate of candidates) {
    try {
      return parseCdbList(readFileSync(candidate, 'utf8'));
    } catch {
      // try the next place
    }
  }
  return undefined;
}
