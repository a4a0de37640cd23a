import { hostname } from 'node:os';
import { Command } from 'commander';
import type { CustosConfig } from '../core/config/custos-config.js';
import { parseYamlConfig } from '../core/config/yaml-config.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { configFileFor, defaultDataDir, loadConfig } from './load-config.js';
import { reportWarnings } from './report-warnings.js';
import { redactPostgresUrl } from '../storage/postgres/postgres-database.js';

interface ConfigCheckFlags {
  readonly config?: string;
  readonly db?: string;
  readonly json?: boolean;
}

/** One value of the effective configuration and where it came from. */
interface EffectiveValue {
  readonly key: string;
  readonly value: unknown;
  /** The configuration file that set it, `--db`, or `default`. */
  readonly from: string;
}

/**
 * `custos config check [--config FILE]`: validates the configuration `check` would read (every error at once, as
 * `file:line: key: message`, exit 2) and prints the effective configuration, defaults filled in, each value with
 * where it came from: a value that differs from the built-in default was set by the file (or `--db`).
 */
export function configCommand(result: CommandResult): Command {
  const config = new Command('config').description('the configuration: check it and show what is in effect');
  config.addCommand(
    new Command('check')
      .description('validate the configuration and print every effective value with where it came from (exit 2 on errors)')
      .option('--config <file>', 'custos.yml or ossec.conf (default: $CUSTOS_CONFIG, else /etc/custos/custos.yml if present)')
      .option('--ossec-root <dir>', 'the OSSEC/Wazuh install an ossec.conf belongs to (its rules/ and ruleset dirs), when it is not DIR/etc/ossec.conf')
      .option('--db <file>', 'SQLite baseline file (as check would be given it)')
      .option('--json', 'print the effective values as JSON lines')
      .action(async (flags: ConfigCheckFlags) => {
        const loaded = loadConfig(flags);
        reportWarnings(loaded.warnings);
        const file = configFileFor(flags) ?? '(no file)';
        const defaults = parseYamlConfig('', '(defaults)', { dataDir: defaultDataDir(), hostname: hostname() });
        if (!defaults.ok) throw new Error('the built-in defaults do not parse');
        const values = effectiveValues(loaded.config, defaults.value.config, file, flags.db !== undefined);
        if (flags.json === true) process.stdout.write(values.map((v) => `${JSON.stringify(v)}\n`).join(''));
        else {
          process.stdout.write(`# ${file}: valid${loaded.warnings.length > 0 ? ` (${loaded.warnings.length} warnings)` : ''}\n`);
          process.stdout.write(values.map((v) => `${v.key} = ${JSON.stringify(v.value)}  # ${v.from}\n`).join(''));
        }
        result.exitCode = EXIT.OK;
      }),
  );
  return config;
}

/** The leaves of the effective configuration, each compared with the same key of the built-in defaults. */
function effectiveValues(config: CustosConfig, defaults: CustosConfig, file: string, dbGiven: boolean): EffectiveValue[] {
  const out: EffectiveValue[] = [];
  // `fromFile`: below a list that differs from the default one as a whole (the file's own directories, ignores),
  // every value is the file's, even one that happens to equal the default entry at the same index.
  const walk = (value: unknown, fallback: unknown, key: string, fromFile: boolean): void => {
    if (isPlainObject(value)) {
      for (const [name, child] of Object.entries(value))
        walk(child, isPlainObject(fallback) ? fallback[name] : undefined, key === '' ? name : `${key}.${name}`, fromFile);
      return;
    }
    if (Array.isArray(value) && value.some((item) => isPlainObject(item))) {
      const replaced = fromFile || JSON.stringify(toPlain(value)) !== JSON.stringify(toPlain(fallback));
      value.forEach((item, i) => walk(item, Array.isArray(fallback) ? fallback[i] : undefined, `${key}[${i}]`, replaced));
      return;
    }
    // The store's URL may carry a password: shown as `***`, as everywhere else.
    const plain = key === 'storage.url' && typeof value === 'string' ? redactPostgresUrl(value) : toPlain(value);
    const from = key === 'storage.path' && dbGiven ? '--db' : !fromFile && JSON.stringify(plain) === JSON.stringify(toPlain(fallback)) ? 'default' : file;
    out.push({ key, value: plain, from });
  };
  walk(config, defaults, '', false);
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** A value as JSON can show it: patterns by their source, sets and maps as arrays, buffers as text. */
function toPlain(value: unknown): unknown {
  if (value instanceof RegExp) return value.source;
  if (value instanceof Set) return [...value].map(toPlain);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toPlain(v)]));
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(toPlain);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
  if (typeof value === 'function') return '(function)';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'object' && value !== null && !isPlainObject(value)) return Object.prototype.toString.call(value);
  return value;
}
