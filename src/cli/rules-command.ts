import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { loadRuleSet } from '../analysis/load-rule-set.js';
import { CUSTOS_RULES } from '../core/builtin-rules.js';
import { ruleInputFromAlert } from '../core/rules/rule-input.js';
import { newCorrelationState, type RuleSet } from '../core/rules/rule-set.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { loadConfig } from './load-config.js';
import { reportWarnings } from './report-warnings.js';

interface RulesTestFlags {
  readonly config?: string;
  readonly rules?: string[];
  readonly json?: boolean;
}

/** `custos rules test`: OSSEC's ossec-logtest for FIM events. */
export function rulesCommand(result: CommandResult): Command {
  const rules = new Command('rules').description('OSSEC-compatible rules');
  rules.addCommand(
    new Command('test')
      .description('read alert or event JSON lines on stdin; print the rule each one ends at, its level, and every rule tried')
      .option('--config <file>', 'custos.yml or ossec.conf (its rules are loaded)')
      .option('--ossec-root <dir>', 'the OSSEC/Wazuh install an ossec.conf belongs to (its rules/ and ruleset dirs), when it is not DIR/etc/ossec.conf')
      .option('--rules <file...>', 'rules files to load after the built-in and configured ones')
      .option('--json', 'print JSON lines')
      .action(async (flags: RulesTestFlags) => {
        const { config } = loadConfig(flags);
        const set = loadRuleSet({ ...config.rules, files: [...config.rules.files, ...(flags.rules ?? [])] }, reportWarnings);
        let line = 0;
        let bad = 0;
        for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
          line++;
          if (text.trim() === '') continue;
          const out = testOne(set, text);
          if (out === undefined) {
            bad++;
            process.stderr.write(`custos: line ${line}: not an alert or event JSON object (needs agent, syscheck.event and full_log)\n`);
            continue;
          }
          process.stdout.write(flags.json === true ? `${JSON.stringify(out)}\n` : humanLine(out));
        }
        result.exitCode = bad > 0 ? EXIT.USAGE : EXIT.OK;
      }),
  );
  return rules;
}

interface TestResult {
  readonly path: string;
  readonly rule: { readonly id: number; readonly level: number; readonly description: string } | null;
  readonly alert: boolean;
  readonly decided_by: 'rules' | 'known-bad';
  readonly tried: readonly { readonly id: number; readonly level: number; readonly matched: boolean; readonly reason?: string }[];
}

function testOne(set: RuleSet, text: string): TestResult | undefined {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const syscheck = doc.syscheck as { event?: unknown; path?: unknown } | undefined;
  const agent = doc.agent as { id?: unknown; name?: unknown } | undefined;
  if (typeof syscheck?.event !== 'string' || !['added', 'modified', 'deleted'].includes(syscheck.event) || typeof doc.full_log !== 'string') return undefined;
  const path = typeof syscheck.path === 'string' ? syscheck.path : '';
  const verdict = (doc.known_hash as { verdict?: unknown } | undefined)?.verdict;
  if (verdict === 'known-bad') {
    // Decided before any rule runs, whatever the rules say.
    const r = CUSTOS_RULES.knownBad;
    return { path, rule: { id: r.id, level: r.level, description: r.description }, alert: true, decided_by: 'known-bad', tried: [] };
  }
  const input = ruleInputFromAlert(
    {
      ...doc,
      agent: { id: typeof agent?.id === 'string' ? agent.id : '000', name: typeof agent?.name === 'string' ? agent.name : '' },
      syscheck: { ...syscheck, event: syscheck.event as 'added' | 'modified' | 'deleted' },
      full_log: doc.full_log,
    },
    Date.now(),
  );
  const { rule, tried } = set.evaluate(input, newCorrelationState(), true);
  return {
    path,
    rule: rule === undefined ? null : { id: rule.id, level: rule.level, description: rule.description },
    alert: rule !== undefined && rule.level > 0,
    decided_by: 'rules',
    tried,
  };
}

function humanLine(r: TestResult): string {
  const what = r.rule === null ? 'no rule matched' : `rule ${r.rule.id} (level ${r.rule.level}) '${r.rule.description}'`;
  const verdict = r.alert ? 'ALERT' : 'recorded, no alert';
  const chain = r.tried.map((t) => (t.matched ? `${t.id}✓` : `${t.id}✗ ${t.reason ?? ''}`)).join('  ');
  return `${r.path}: ${what} -> ${verdict}${r.decided_by === 'known-bad' ? ' (known-bad, before any rule)' : ''}\n  tried: ${chain}\n`;
}
