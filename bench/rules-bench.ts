/**
 * Rule evaluation benchmark: FIM events per second through the built-in rules plus N local rules of the kinds
 * people write (level-0 path silencers with <match>, <regex> on the alert text, <field> on paths, per-host rules
 * with <hostname>, <if_group> fan-out). Run: node dist/bench/rules-bench.js [--rules 1000] [--events 20000]
 */
import { parseRulesXml } from '../src/core/rules/parse-rules-xml.js';
import { ruleInputFromAlert } from '../src/core/rules/rule-input.js';
import { newCorrelationState, RuleSet } from '../src/core/rules/rule-set.js';
import { loadRuleSet, BUILTIN_RULES_FILE } from '../src/analysis/load-rule-set.js';
import { readFileSync } from 'node:fs';

/** Builds `count` realistic local rules as OSSEC XML. */
export function syntheticRules(count: number): string {
  const rules: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = 100_000 + i;
    switch (i % 5) {
      case 0:
        rules.push(
          `<rule id="${id}" level="0"><if_group>syscheck</if_group><match>for: '/srv/app${i}/cache/|for: '/var/tmp/job${i}/</match><description>quiet ${i}</description></rule>`,
        );
        break;
      case 1:
        rules.push(
          `<rule id="${id}" level="10"><if_sid>550</if_sid><regex>for: '/opt/svc${i}/bin/\\w+'</regex><description>service ${i} binary</description></rule>`,
        );
        break;
      case 2:
        rules.push(
          `<rule id="${id}" level="8"><if_sid>554</if_sid><field name="syscheck.path">^/etc/conf${i}\\.d/</field><description>conf ${i}</description></rule>`,
        );
        break;
      case 3:
        rules.push(
          `<rule id="${id}" level="0"><if_sid>550</if_sid><hostname>build${i}</hostname><match>/var/lib/build</match><description>build host ${i}</description></rule>`,
        );
        break;
      default:
        rules.push(
          `<rule id="${id}" level="12"><if_sid>550</if_sid><regex>Permissions changed from '\\D+' to '\\D\\D\\D\\D\\D\\D\\Dw\\D'</regex><field name="syscheck.path">^/home/user${i}/</field><description>world-writable ${i}</description></rule>`,
        );
    }
  }
  return `<group name="local,syscheck,">\n${rules.join('\n')}\n</group>\n`;
}

/** Synthetic alert documents, a mix of modified, added and deleted files on several hosts. */
export function syntheticEvents(count: number): Record<string, unknown>[] {
  const kinds = ['modified', 'added', 'deleted'] as const;
  return Array.from({ length: count }, (_, i) => {
    const kind = kinds[i % 3] as (typeof kinds)[number];
    const path = `/srv/app${i % 997}/data/file${i}.txt`;
    const fullLog =
      kind === 'modified'
        ? `Integrity checksum changed for: '${path}'\nSize changed from '10' to '20'\nOld md5sum was: '${'a'.repeat(32)}'\nNew md5sum is : '${'b'.repeat(32)}'`
        : kind === 'added'
          ? `New file '${path}' added to the file system.\nNew sha1sum is : '${'c'.repeat(40)}'\nNew md5sum is : '${'d'.repeat(32)}'`
          : `File '${path}' was deleted. Unable to retrieve checksum.`;
    return {
      agent: { id: String(1 + (i % 50)).padStart(3, '0'), name: `web${i % 50}` },
      syscheck: { path, event: kind },
      known_hash: { verdict: 'unknown' },
      full_log: fullLog,
    };
  });
}

/** Events per second through built-in plus `ruleCount` local rules (median of `runs`). */
export function runRulesBench(ruleCount: number, eventCount: number, runs = 5): { eventsPerSecond: number; rules: number } {
  const builtin = parseRulesXml(readFileSync(BUILTIN_RULES_FILE, 'utf8'), BUILTIN_RULES_FILE, () => undefined);
  const local = parseRulesXml(syntheticRules(ruleCount), 'synthetic.xml', () => undefined);
  if (!builtin.ok || !local.ok) throw new Error('synthetic rules do not parse');
  const compiled = RuleSet.compile([...builtin.value, ...local.value].map((r) => r.definition));
  if (!compiled.ok) throw new Error('synthetic rules do not compile');
  const set = compiled.value;
  const inputs = syntheticEvents(eventCount).map((e) => ruleInputFromAlert(e as Parameters<typeof ruleInputFromAlert>[0], Date.now()));
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) {
    const state = newCorrelationState();
    const t = process.hrtime.bigint();
    for (const input of inputs) set.evaluate(input, state);
    rates.push(inputs.length / (Number(process.hrtime.bigint() - t) / 1e9));
  }
  rates.sort((a, b) => a - b);
  return { eventsPerSecond: rates[Math.floor(rates.length / 2)] ?? 0, rules: set.rules.length };
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const arg = (name: string, fallback: number): number => {
    const i = process.argv.indexOf(name);
    return i < 0 ? fallback : Number(process.argv[i + 1]);
  };
  loadRuleSet([]);
  const r = runRulesBench(arg('--rules', 1000), arg('--events', 20000));
  if (process.argv.includes('--json')) console.log(JSON.stringify(r));
  else console.log(`${r.rules} rules: ${Math.round(r.eventsPerSecond)} events/s`);
}
