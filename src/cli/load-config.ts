import { existsSync, readFileSync } from 'node:fs';
import { hostname, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseOssecConfig } from '../core/config/ossec-config.js';
import { parseYamlConfig } from '../core/config/yaml-config.js';
import type { ConfigDefaults, LoadedConfig } from '../core/config/custos-config.js';
import { ConfigError, CustosError } from '../core/custos-error.js';

/** Where a host keeps its configuration when `--config` is not given. */
export const SYSTEM_CONFIG = '/etc/custos/custos.yml';

/** Options every command shares for finding its configuration and data. */
export interface ConfigOptions {
  readonly config?: string;
  /** `--db FILE`: the SQLite file; alert logs default to its directory. */
  readonly db?: string;
  /** `--data DIR`: a manager's data directory; means `--db DIR/custos.db` unless the store is PostgreSQL. */
  readonly data?: string;
  /**
   * `--ossec-root DIR` (or `$CUSTOS_OSSEC_ROOT`): the OSSEC or Wazuh install an `ossec.conf` belongs to, for its
   * `<include>` rules (`DIR/rules/`) and Wazuh's ruleset directories, when the configuration is not `DIR/etc/ossec.conf`.
   */
  readonly ossecRoot?: string;
  /** `--store postgres://…`: the manager's store on PostgreSQL (instead of `--db` or the configuration's). */
  readonly store?: string;
}

/**
 * Loads the configuration: `--config FILE`, else `$CUSTOS_CONFIG`, else /etc/custos/custos.yml if present, else
 * the built-in defaults. A file whose first element is XML is read as OSSEC's `ossec.conf`.
 */
export function loadConfig(given: ConfigOptions): LoadedConfig {
  if (given.store !== undefined && given.db !== undefined) throw new CustosError('USAGE', '--store and --db both name the store: give one of them');
  if (given.store !== undefined && !/^postgres(ql)?:\/\//.test(given.store))
    throw new CustosError('USAGE', '--store takes a postgres:// URL (SQLite is named with --db)');
  const db = given.db ?? (given.data === undefined ? undefined : join(given.data, 'custos.db'));
  const options = { ...given, ...(db === undefined ? {} : { db }) };
  const file = configFileFor(options);
  const dataDir = options.db === undefined ? defaultDataDir() : dirname(resolve(options.db));
  const ossecRoot = options.ossecRoot ?? (process.env.CUSTOS_OSSEC_ROOT || undefined);
  const defaults: ConfigDefaults = { dataDir, hostname: hostname(), ...(ossecRoot === undefined ? {} : { ossecRoot: resolve(ossecRoot) }) };
  let text = '';
  if (file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError([
        { file, key: '', message: `cannot read the configuration: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` },
      ]);
    }
  }
  const name = file ?? '(defaults)';
  const result = /^\s*</.test(text) ? parseOssecConfig(text, name, defaults) : parseYamlConfig(text, name, defaults);
  if (!result.ok) throw new ConfigError(result.error);
  const { config } = result.value;
  // --store and --db move the store; the configuration's history retention still applies to it.
  const retention = config.storage.historyRetentionMs === undefined ? {} : { historyRetentionMs: config.storage.historyRetentionMs };
  if (given.store !== undefined) return { ...result.value, config: { ...config, storage: { engine: 'postgres', url: given.store, ...retention } } };
  if (options.db === undefined) return result.value;
  if (config.storage.engine !== 'sqlite') {
    // --data with a configuration on PostgreSQL: the directory holds the rest (certificates, alert files).
    if (given.db === undefined) return result.value;
    throw new CustosError('USAGE', '--db names a SQLite file, but the configuration uses PostgreSQL');
  }
  return { ...result.value, config: { ...config, storage: { engine: 'sqlite', path: options.db, ...retention } } };
}

/** The configuration file `loadConfig` reads for these options; undefined: the built-in defaults. */
export function configFileFor(options: ConfigOptions): string | undefined {
  return options.config ?? process.env.CUSTOS_CONFIG ?? (existsSync(SYSTEM_CONFIG) ? SYSTEM_CONFIG : undefined);
}

/** /var/lib/custos for root; the XDG state directory for anyone else. */
export function defaultDataDir(): string {
  if (process.getuid?.() === 0) return '/var/lib/custos';
  return join(process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'custos');
}
