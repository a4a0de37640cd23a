import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { FULL_LOG_STYLES } from '../event-record.js';
import { buildCheckSet, CHECK_OPTIONS, type CheckOption } from '../check-set.js';
import { defaultDirectory } from './default-directory.js';
import { configIssue, type ConfigIssue } from '../custos-error.js';
import { DEFAULT_KNOWN_HASH_POLICY, HASH_SOURCE_KINDS } from '../known-hash-policy.js';
import { err, ok, type Result } from '../result.js';
import {
  DEFAULT_DIFF_CONFIG,
  DEFAULT_DIRECTORIES,
  DEFAULT_IGNORES,
  freezeConfig,
  type ConfigDefaults,
  type CustosConfig,
  type DirectoryConfig,
  type LoadedConfig,
  type ManagerConfig,
  type LocateKey,
  type PathPattern,
} from './custos-config.js';
import { emailSchema, toEmailConfig } from './email-config.js';
import { optionWarnings } from './option-warnings.js';
import { scanThrottleSchema, toScanThrottleConfig } from './scan-throttle-config.js';
import { parseDurationMs, parseSizeBytes } from './units.js';
import { parseScanDays, parseScanTime } from '../scan-schedule.js';

const yesNo = z.union([z.boolean(), z.enum(['yes', 'no'])], { error: 'expected yes/no (or true/false)' }).transform((v) => v === true || v === 'yes');

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (e.g. 30m, 6h, 7d, 3600)` });
  return ms ?? 0;
});

const size = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bytes = parseSizeBytes(v);
  if (bytes === undefined) ctx.addIssue({ code: 'custom', message: `"${v}" is not a size (e.g. 512KiB, 1GiB)` });
  return bytes ?? 0;
});

const absolutePath = z.string().regex(/^\//, 'must be an absolute path');

const pattern = z
  .union([absolutePath, z.object({ sregex: z.string().min(1) }).strict()], {
    error: 'expected an absolute path or { sregex: PATTERN }',
  })
  .transform((v): PathPattern => (typeof v === 'string' ? { kind: 'path', source: v } : { kind: 'sregex', source: v.sregex }));

const checkOptions = Object.fromEntries(CHECK_OPTIONS.map((o) => [o, yesNo.optional()])) as Record<CheckOption, z.ZodOptional<typeof yesNo>>;

const directory = z
  .object({
    path: z.union([absolutePath, z.array(absolutePath).min(1)]),
    ...checkOptions,
    realtime: yesNo.prefault(false),
    report_changes: yesNo.prefault(false),
    diff_size_limit: size.optional(),
    recursion_level: z.number().int().min(0).max(320).prefault(256),
    restrict: z.string().min(1).optional(),
    follow_symbolic_link: yesNo.prefault(false),
    tags: z.array(z.string()).prefault([]),
    ignore: z.array(pattern).prefault([]),
  })
  .strict();

// Wazuh writes `<disk_quota><enabled>yes</enabled><limit>1GB</limit></disk_quota>`; a bare size is the same.
const limitBlock = z.union([size.transform((limit) => ({ enabled: true, limit })), z.object({ enabled: yesNo.prefault(true), limit: size }).strict()]);

const diff = z
  .object({
    disk_quota: limitBlock.optional(),
    file_size: limitBlock.optional(),
    builtin_nodiff: yesNo.prefault(true),
    redact: z
      .array(
        z.string().superRefine((source, ctx) => {
          try {
            new RegExp(source);
          } catch (error) {
            ctx.addIssue({ code: 'custom', message: `"${source}" is not a regular expression: ${(error as Error).message}` });
          }
        }),
      )
      .prefault([]),
    database: z.string().min(1).optional(),
  })
  .strict();

const autoIgnore = z.union([
  yesNo.transform((enabled) => ({ enabled, frequency: 3, timeframeMs: 3_600_000 })),
  z
    .object({
      enabled: yesNo.prefault(true),
      frequency: z.number().int().min(1).max(99).prefault(3),
      timeframe: duration.prefault('1h'),
    })
    .strict()
    .transform((v) => ({ enabled: v.enabled, frequency: v.frequency, timeframeMs: v.timeframe })),
]);

const syscheck = z
  .object({
    disabled: yesNo.prefault(false),
    directories: z.array(directory).min(1).optional(),
    ignore: z.array(pattern).optional(),
    nodiff: z.array(pattern).prefault([]),
    frequency: duration.prefault('6h'),
    scan_time: z
      .string()
      .superRefine((text, ctx) => {
        if (parseScanTime(text) === undefined) ctx.addIssue({ code: 'custom', message: `"${text}" is not a time (expected 10pm, 9:30am, 21pm or 22:00)` });
      })
      .optional(),
    scan_day: z
      .string()
      .superRefine((text, ctx) => {
        const days = parseScanDays(text);
        if (typeof days === 'string') ctx.addIssue({ code: 'custom', message: days });
      })
      .optional(),
    scan_on_start: yesNo.prefault(true),
    alert_new_files: yesNo.prefault(true),
    auto_ignore: autoIgnore.prefault(false),
    max_file_size: size.prefault('1GiB'),
    rehash_interval: duration.optional(),
    skip_nfs: yesNo.prefault(true),
    skip_dev: yesNo.prefault(true),
    skip_proc: yesNo.prefault(true),
    skip_sys: yesNo.prefault(true),
    diff: diff.prefault({}),
    ...scanThrottleSchema,
  })
  .strict();

// How long history is kept (whole months: see core/history-retention.ts); absent, it is kept for ever.
const historyRetention = duration.refine((ms) => ms >= 86_400_000, 'history_retention must be at least 1d').optional();

// Discriminated by engine (sqlite when absent), so a bad key is reported by the engine's own branch.
const database = z.preprocess(
  (v) => (typeof v === 'object' && v !== null && !('engine' in v) ? { ...v, engine: 'sqlite' } : v),
  z.discriminatedUnion('engine', [
    z.object({ engine: z.literal('sqlite'), path: z.string().min(1).optional(), history_retention: historyRetention }).strict(),
    z
      .object({
        engine: z.literal('postgres'),
        url: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL'),
        history_retention: historyRetention,
      })
      .strict(),
  ]),
);

const knownHashes = z
  .object({
    database: z.string().min(1).optional(),
    md5_allowlist: z.string().min(1).optional(),
    match: z.enum(['path', 'hash']).prefault('path'),
    silence: z
      .array(
        z
          .object({
            sources: z.array(z.enum(HASH_SOURCE_KINDS)).min(1),
            paths: z.array(absolutePath).min(1).prefault(['/']),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

const rules = z
  .object({
    files: z.array(z.string().min(1)).prefault([]),
    directories: z.array(z.string().min(1)).prefault([]),
    exclude: z.array(z.string().min(1)).prefault([]),
  })
  .strict();

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'expected HOST:PORT');

/** A manager's address as agents use it: an https URL. */
const managerUrl = z.string().refine(
  (v) => {
    try {
      return new URL(v).protocol === 'https:';
    } catch {
      return false;
    }
  },
  { message: 'an https:// URL, e.g. https://manager.example:1515' },
);
const syslogTarget = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).prefault(514),
    protocol: z.enum(['udp', 'tcp', 'tls']).prefault('udp'),
    ca: z.string().min(1).optional(),
  })
  .strict();

const webhookTarget = z
  .object({
    url: z.string().regex(/^https?:\/\//, 'expected an http(s) URL'),
    ca: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).prefault({}),
  })
  .strict();

const manager = z
  .object({
    listen: hostPort.prefault('0.0.0.0:1515'),
    silent_after: duration.prefault('10m'),
    token_ttl: duration.prefault('1h'),
    // Several managers on PostgreSQL: how long an alert stays claimed by the manager that committed it before
    // another one delivers it (the first died). Shorter moves alerts sooner; long enough to cover a slow sink.
    alert_lease: duration.refine((ms) => ms >= 1000, 'alert_lease must be at least 1s').prefault('2m'),
    syslog: syslogTarget.optional(),
    webhook: webhookTarget.optional(),
    /** What one agent may store; past it, its batches are refused (kept on the agent) and rule 577 raised. */
    quota: z
      .object({
        baseline_entries: z.number().int().positive().prefault(5_000_000),
        baseline_bytes: size.prefault('4GiB'),
        history_records: z.number().int().positive().prefault(20_000_000),
        history_bytes: size.prefault('16GiB'),
      })
      .strict()
      .prefault({}),
    /** Verify the .debs agents installed against these signed indexes and this keyring (none: agents' claims only). */
    packages: z
      .object({
        keyring: z.string().min(1),
        apt_lists: z.string().min(1).prefault('/var/lib/apt/lists'),
        max_deb_size: size.prefault('512MiB'),
      })
      .strict()
      .optional(),
  })
  .strict();

const root = z
  .object({
    manager: manager.prefault({}),
    rules: rules.prefault({}),
    known_hashes: knownHashes.prefault({}),
    agent: z
      .object({
        name: z.string().min(1).max(128).optional(),
        keepalive: duration.prefault('1m'),
        /** The fleet's managers, tried in order (failover); replaces those recorded at enrollment. */
        managers: z.array(managerUrl).min(1).max(16).optional(),
      })
      .strict()
      .prefault({}),
    database: database.prefault({}),
    alerts: z
      .object({
        json: z.string().min(1).optional(),
        log: z.string().min(1).optional(),
        full_log: z.enum(FULL_LOG_STYLES, { error: `expected ${FULL_LOG_STYLES.join(' or ')}` }).prefault('ossec'),
        manager_name: z.string().min(1).max(255).optional(),
        syslog: syslogTarget.optional(),
        webhook: webhookTarget.optional(),
        history_key: z.string().min(1).optional(),
      })
      .strict()
      .prefault({}),
    syscheck: syscheck.prefault({}),
    email: emailSchema.prefault({}),
  })
  .strict();

/** The validated `custos.yml` shape, before it becomes the camelCase model. */
export type RootOutput = z.output<typeof root>;

/**
 * Validates a configuration object in the shape of `custos.yml` (snake_case keys) and builds the frozen model.
 * Both the YAML and the `ossec.conf` readers end here, so both report problems the same way: all at once, each
 * with file, line and dotted key.
 */
export function validateConfigObject(input: unknown, file: string, locate: LocateKey, defaults: ConfigDefaults): Result<LoadedConfig, readonly ConfigIssue[]> {
  const parsed = root.safeParse(input ?? {});
  if (!parsed.success) {
    return err(
      parsed.error.issues.flatMap((issue) => {
        const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
        return keys.map((extra) => {
          const full = extra === undefined ? path : [...path, extra];
          const message = extra === undefined ? issue.message : `unknown key "${extra}"`;
          return configIssue(file, locate(full), dotted(full), message);
        });
      }),
    );
  }
  const config = toModel(parsed.data, defaults, file);
  return ok({ config: freezeConfig(config), warnings: optionWarnings(parsed.data, file, locate) });
}

function toModel(data: RootOutput, defaults: ConfigDefaults, file: string): CustosConfig {
  const s = data.syscheck;
  const directories: DirectoryConfig[] =
    s.directories === undefined
      ? DEFAULT_DIRECTORIES.map((path) => defaultDirectory(path))
      : s.directories.flatMap((d) =>
          (Array.isArray(d.path) ? d.path : [d.path]).map((path): DirectoryConfig => ({
            path,
            checks: buildCheckSet(d),
            realtime: d.realtime,
            reportChanges: d.report_changes,
            ...(d.diff_size_limit === undefined ? {} : { diffSizeLimitBytes: d.diff_size_limit }),
            recursionLevel: d.recursion_level,
            ...(d.restrict === undefined ? {} : { restrict: d.restrict }),
            followSymlinks: d.follow_symbolic_link,
            tags: d.tags,
            ignore: d.ignore,
          })),
        );
  const retention = data.database.history_retention === undefined ? {} : { historyRetentionMs: data.database.history_retention };
  const storage =
    data.database.engine === 'postgres'
      ? { engine: 'postgres' as const, url: data.database.url, ...retention }
      : { engine: 'sqlite' as const, path: data.database.path ?? `${defaults.dataDir}/custos.db`, ...retention };
  const kh = data.known_hashes;
  // Rule files named relative to the configuration file, as OSSEC names them relative to its install.
  const base = file.includes('/') ? dirname(file) : '.';
  const resolveFrom = (dir: string, f: string): string => (isAbsolute(f) ? f : join(dir, f));
  const m = data.manager;
  const [listenHost = '0.0.0.0', listenPort = '1515'] = splitHostPort(m.listen);
  const email = toEmailConfig(data.email, (f) => resolveFrom(base, f));
  return {
    ...(email === undefined ? {} : { email }),
    manager: {
      listenHost,
      listenPort: Number(listenPort),
      silentAfterMs: m.silent_after,
      alertLeaseMs: m.alert_lease,
      tokenTtlMs: m.token_ttl,
      quota: {
        baselineEntries: m.quota.baseline_entries,
        baselineBytes: m.quota.baseline_bytes,
        historyRecords: m.quota.history_records,
        historyBytes: m.quota.history_bytes,
      },
      ...(m.syslog === undefined ? {} : { syslog: syslogConfig(m.syslog, (f) => resolveFrom(base, f)) }),
      ...(m.webhook === undefined ? {} : { webhook: webhookConfig(m.webhook, (f) => resolveFrom(base, f)) }),
      ...(m.packages === undefined
        ? {}
        : {
            packages: {
              keyring: resolveFrom(base, m.packages.keyring),
              aptLists: resolveFrom(base, m.packages.apt_lists),
              maxDebBytes: m.packages.max_deb_size,
            },
          }),
    },
    keepaliveMs: data.agent.keepalive,
    ...(data.agent.managers === undefined ? {} : { agentManagers: data.agent.managers }),
    agentName: data.agent.name ?? defaults.hostname,
    rules: {
      files: data.rules.files.map((f) => resolveFrom(base, f)),
      directories: data.rules.directories.map((d) => resolveFrom(base, d)),
      exclude: data.rules.exclude,
    },
    knownHashes: {
      databasePath: kh.database ?? `${defaults.dataDir}/hashdb.sqlite`,
      explicit: kh.database !== undefined,
      ...(kh.md5_allowlist === undefined ? {} : { md5AllowlistPath: resolveFrom(base, kh.md5_allowlist) }),
      policy: { match: kh.match, silence: kh.silence ?? DEFAULT_KNOWN_HASH_POLICY.silence },
    },
    storage,
    alerts: {
      jsonPath: data.alerts.json ?? `${defaults.dataDir}/alerts.json`,
      logPath: data.alerts.log ?? `${defaults.dataDir}/alerts.log`,
      fullLogStyle: data.alerts.full_log,
      ...(data.alerts.manager_name === undefined ? {} : { managerName: data.alerts.manager_name }),
      ...(data.alerts.syslog === undefined ? {} : { syslog: syslogConfig(data.alerts.syslog, (f) => resolveFrom(base, f)) }),
      ...(data.alerts.webhook === undefined ? {} : { webhook: webhookConfig(data.alerts.webhook, (f) => resolveFrom(base, f)) }),
      ...(data.alerts.history_key === undefined ? {} : { historyKeyFile: resolveFrom(base, data.alerts.history_key) }),
    },
    syscheck: {
      disabled: s.disabled,
      directories,
      ignore: s.ignore ?? DEFAULT_IGNORES.map((source) => ({ kind: 'path', source })),
      nodiff: s.nodiff,
      frequencyMs: s.frequency,
      ...(s.scan_time === undefined ? {} : { scanTime: s.scan_time }),
      ...(s.scan_day === undefined ? {} : { scanDay: s.scan_day }),
      scanOnStart: s.scan_on_start,
      alertNewFiles: s.alert_new_files,
      autoIgnore: s.auto_ignore,
      maxFileSizeBytes: s.max_file_size,
      ...(s.rehash_interval === undefined ? {} : { rehashIntervalMs: s.rehash_interval }),
      skip: { nfs: s.skip_nfs, dev: s.skip_dev, proc: s.skip_proc, sys: s.skip_sys },
      diff: {
        fileSizeLimitBytes:
          s.diff.file_size === undefined ? DEFAULT_DIFF_CONFIG.fileSizeLimitBytes : s.diff.file_size.enabled ? s.diff.file_size.limit : Number.MAX_SAFE_INTEGER,
        diskQuotaBytes: s.diff.disk_quota === undefined ? DEFAULT_DIFF_CONFIG.diskQuotaBytes : s.diff.disk_quota.enabled ? s.diff.disk_quota.limit : 0,
        builtinNodiff: s.diff.builtin_nodiff,
        redact: s.diff.redact,
        ...(s.diff.database === undefined ? {} : { databasePath: resolveFrom(base, s.diff.database) }),
      },
      throttle: toScanThrottleConfig(s),
    },
  };
}

export function dotted(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** `host:port` or `[v6]:port` into its parts. */
export function splitHostPort(text: string): [string, string] {
  const i = text.lastIndexOf(':');
  return [text.slice(0, i).replace(/^\[|\]$/g, ''), text.slice(i + 1)];
}

/** A syslog target as the model holds it (a CA file named relative to the configuration file). */
function syslogConfig(t: z.output<typeof syslogTarget>, resolve: (file: string) => string): NonNullable<ManagerConfig['syslog']> {
  return { host: t.host, port: t.port, protocol: t.protocol, ...(t.ca === undefined ? {} : { caFile: resolve(t.ca) }) };
}

/** A webhook target as the model holds it. */
function webhookConfig(t: z.output<typeof webhookTarget>, resolve: (file: string) => string): NonNullable<ManagerConfig['webhook']> {
  return { url: t.url, headers: t.headers, ...(t.ca === undefined ? {} : { caFile: resolve(t.ca) }) };
}
