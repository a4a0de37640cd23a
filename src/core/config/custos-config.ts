import type { CheckSet } from '../check-set.js';
import type { FullLogStyle } from '../event-record.js';
import type { KnownHashPolicy } from '../known-hash-policy.js';
import type { ConfigIssue } from '../custos-error.js';
import type { EmailConfig } from './email-config.js';
import type { ScanThrottleConfig } from './scan-throttle-config.js';

/**
 * A path pattern from `ignore`, `nodiff` or `restrict`:
 * - `path`: that exact path and everything below it (OSSEC compares a case-insensitive prefix, which also
 *   ignores `/etc/mtab.bak` for `/etc/mtab`; we match whole path components instead)
 * - `sregex`: an OSSEC OSMatch pattern tested against the whole path
 */
export interface PathPattern {
  readonly kind: 'path' | 'sregex';
  readonly source: string;
}

/** One configured directory (a `<directories>` entry) with the options that govern everything below it. */
export interface DirectoryConfig {
  readonly path: string;
  readonly checks: CheckSet;
  readonly realtime: boolean;
  readonly reportChanges: boolean;
  /** Wazuh's `diff_size_limit`: files larger than this get no diff; absent means `syscheck.diff.fileSizeLimitBytes`. */
  readonly diffSizeLimitBytes?: number;
  /** How many directory levels below `path` are walked; 0 means the entries directly in `path` only. */
  readonly recursionLevel: number;
  /** OSMatch pattern a file's full path must match to be monitored (directories are always walked). */
  readonly restrict?: string;
  readonly followSymlinks: boolean;
  readonly tags: readonly string[];
  readonly ignore: readonly PathPattern[];
}

/** OSSEC-style auto-ignore of files that change too often (frequency changes within timeframe). */
export interface AutoIgnoreConfig {
  readonly enabled: boolean;
  readonly frequency: number;
  readonly timeframeMs: number;
}

/** File systems that are never walked into. */
export interface SkipConfig {
  readonly nfs: boolean;
  readonly dev: boolean;
  readonly proc: boolean;
  readonly sys: boolean;
}

/** The FIM settings: OSSEC's `<syscheck>` block. */
export interface SyscheckConfig {
  /** OSSEC's `<disabled>yes</disabled>`: syscheck is off, nothing is scanned (the baseline is kept as it is). */
  readonly disabled: boolean;
  readonly directories: readonly DirectoryConfig[];
  readonly ignore: readonly PathPattern[];
  readonly nodiff: readonly PathPattern[];
  readonly frequencyMs: number;
  readonly scanTime?: string;
  readonly scanDay?: string;
  readonly scanOnStart: boolean;
  readonly alertNewFiles: boolean;
  readonly autoIgnore: AutoIgnoreConfig;
  readonly maxFileSizeBytes: number;
  /** Every this often a scan rehashes every file even when its stat data is unchanged; absent means never. */
  readonly rehashIntervalMs?: number;
  readonly skip: SkipConfig;
  /** Content diffs (`report_changes`); absent means {@link DEFAULT_DIFF_CONFIG}. */
  readonly diff?: DiffConfig;
  /**
   * How hard a scan may press on the host: priorities, rate and CPU limits, events sent per second. Always set by
   * the configuration readers; absent (a configuration built by hand) means the defaults.
   */
  readonly throttle?: ScanThrottleConfig;
}

/** Content diffs for `report_changes`: Wazuh's `<diff>` block, and where the content copies live. */
export interface DiffConfig {
  /** Wazuh's `<file_size><limit>`: the default per-file limit; larger files get no diff. */
  readonly fileSizeLimitBytes: number;
  /** Wazuh's `<disk_quota><limit>`: compressed content kept at most; the oldest copies go first. 0: no quota. */
  readonly diskQuotaBytes: number;
  /** The built-in nodiff list of secret files (shadow, private keys, ...) applies. */
  readonly builtinNodiff: boolean;
  /** Extra regular expressions (JavaScript syntax) for lines to redact, besides the built-in secret rules. */
  readonly redact: readonly string[];
  /** The content database (standalone: beside the store; the manager: beside its store) when not the default. */
  readonly databasePath?: string;
}

/** The defaults of {@link DiffConfig}: 1 MiB per file, 1 GiB in all, built-in nodiff on. */
export const DEFAULT_DIFF_CONFIG: DiffConfig = { fileSizeLimitBytes: 1024 ** 2, diskQuotaBytes: 1024 ** 3, builtinNodiff: true, redact: [] };

/** Where the baseline, history and alerts live. */
export type StorageConfig = ({ readonly engine: 'sqlite'; readonly path: string } | { readonly engine: 'postgres'; readonly url: string }) & {
  /** `database.history_retention`: history older than this (in whole months) is dropped by the manager. */
  readonly historyRetentionMs?: number;
};

/** Files the local alert sinks append to. */
export interface AlertOutputConfig {
  readonly jsonPath: string;
  readonly logPath: string;
  /** The wording of `full_log`, which `<match>` and `<regex>` read: OSSEC's (default) or Wazuh's. */
  readonly fullLogStyle: FullLogStyle;
  /** `manager.name` in `alerts.json` (default: the host's name). */
  readonly managerName?: string;
  /** Standalone `check`: alerts, and each scan's summary with the history head, also go off the host. */
  readonly syslog?: ManagerConfig['syslog'];
  readonly webhook?: ManagerConfig['webhook'];
  /** A key file kept outside the database (mode 0600 or stricter): it signs the history head (HMAC-SHA256). */
  readonly historyKeyFile?: string;
}

/** The known-hash database and the policy that decides what its verdicts silence. */
export interface KnownHashConfig {
  readonly databasePath: string;
  /** True when the file named the database (a missing one is then worth a warning). */
  readonly explicit: boolean;
  readonly policy: KnownHashPolicy;
  /**
   * OSSEC's md5 allowlist (`<global><md5_whitelist>`): an SQLite file whose MD5s silence a change wherever the
   * file is, unlike the path-aware verdicts of the known-hash database.
   */
  readonly md5AllowlistPath?: string;
}

/** Where the rules come from, besides the built-in ones: OSSEC rule files, read in order. */
export interface RulesConfig {
  /** Absolute paths (relative ones in the file are taken from the configuration file's directory). */
  readonly files: readonly string[];
  /** Directories whose `*.xml` files are loaded in name order, after `files` (Wazuh's `<rule_dir>`). */
  readonly directories: readonly string[];
  /** File names skipped in `directories` (Wazuh's `<rule_exclude>`). */
  readonly exclude: readonly string[];
}

/** Per-agent storage limits on the manager: baseline rows and bytes, history records and bytes. */
export interface AgentQuota {
  readonly baselineEntries: number;
  readonly baselineBytes: number;
  readonly historyRecords: number;
  readonly historyBytes: number;
}

/** Where alerts go besides the manager's own files. */
export interface ManagerConfig {
  readonly listenHost: string;
  readonly listenPort: number;
  /** An agent not heard from for this long raises "agent silent" (rule 563). */
  readonly silentAfterMs: number;
  /** `manager.alert_lease`: how long another manager on the same PostgreSQL waits before delivering an alert this one claimed. */
  readonly alertLeaseMs: number;
  /** How long an enrollment token stays usable. */
  readonly tokenTtlMs: number;
  /** What one agent may store on the manager (its baseline and its history). */
  readonly quota: AgentQuota;
  readonly syslog?: { readonly host: string; readonly port: number; readonly protocol: 'udp' | 'tcp' | 'tls'; readonly caFile?: string };
  readonly webhook?: { readonly url: string; readonly caFile?: string; readonly headers: Readonly<Record<string, string>> };
  /** Verifying the .debs agents installed: the keyring pinned and the signed indexes (apt's lists, or a mirror). */
  readonly packages?: { readonly keyring: string; readonly aptLists: string; readonly maxDebBytes: number };
}

/** The whole configuration of a standalone host or agent, frozen after parsing. */
export interface CustosConfig {
  readonly manager: ManagerConfig;
  /** How often a running agent tells the manager it is alive. */
  readonly keepaliveMs: number;
  /** The managers an agent reports to, in failover order (`agent.managers`); absent: those it enrolled with. */
  readonly agentManagers?: readonly string[];
  readonly syscheck: SyscheckConfig;
  readonly rules: RulesConfig;
  readonly knownHashes: KnownHashConfig;
  readonly storage: StorageConfig;
  readonly alerts: AlertOutputConfig;
  /** Email notification (the manager and `check`); absent when off. */
  readonly email?: EmailConfig;
  readonly agentName: string;
}

/** A parsed configuration and the warnings met on the way (unsupported tags, options not yet in effect). */
export interface LoadedConfig {
  readonly config: CustosConfig;
  readonly warnings: readonly ConfigIssue[];
}

/** Finds the 1-based line of a key path in the source file, when the format can tell. */
export type LocateKey = (path: readonly (string | number)[]) => number | undefined;

/** Values that depend on the machine, supplied by the caller so parsing stays pure. */
export interface ConfigDefaults {
  /** Directory for the SQLite file and the alert logs when the file does not name them. */
  readonly dataDir: string;
  readonly hostname: string;
  /** The OSSEC or Wazuh install directory (`--ossec-root`): where `ossec.conf`'s rules are found, when given. */
  readonly ossecRoot?: string;
}

/** The directories OSSEC's stock configuration monitors. */
export const DEFAULT_DIRECTORIES: readonly string[] = ['/etc', '/usr/bin', '/usr/sbin', '/bin', '/sbin', '/boot'];

/** OSSEC's stock ignores: files that change on every healthy system. */
export const DEFAULT_IGNORES: readonly string[] = [
  '/etc/mtab',
  '/etc/hosts.deny',
  '/etc/mail/statistics',
  '/etc/random-seed',
  '/etc/random.seed',
  '/etc/adjtime',
  '/etc/httpd/logs',
  '/etc/utmpx',
  '/etc/wtmpx',
  '/etc/cups/certs',
  '/etc/dumpdates',
  '/etc/svc/volatile',
];

/** Deep-freezes a parsed configuration so no component can change it behind the others' backs. */
export function freezeConfig<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) freezeConfig(child);
    Object.freeze(value);
  }
  return value;
}
