import { z } from 'zod';
import { parseSizeBytes } from './units.js';

/** Linux I/O scheduling classes a scan may run in (`ionice -c`): best-effort with a level 0-7, or idle. */
export const IO_PRIORITY_CLASSES = ['best-effort', 'idle'] as const;
/** One of {@link IO_PRIORITY_CLASSES}. */
export type IoPriorityClass = (typeof IO_PRIORITY_CLASSES)[number];

/** An I/O priority for the scan threads: `idle`, or `best-effort` at a level 0 (first) to 7 (last). */
export interface IoPriority {
  readonly ioClass: IoPriorityClass;
  readonly level: number;
}

/**
 * How hard a scheduled scan may press on the host it protects. Realtime changes are not throttled (except by
 * `maxEps`, which paces everything sent).
 */
export interface ScanThrottleConfig {
  /** Nice value of the scan threads (walk and hashing), -20 to 19: OSSEC's and Wazuh's `process_priority`. */
  readonly processPriority: number;
  /** I/O priority of the scan threads. */
  readonly ioPriority: IoPriority;
  /** Entries a scan examines per second, at most; absent: no limit. */
  readonly filesPerSecond?: number;
  /** Bytes a scan reads for hashing per second, at most; absent: no limit. */
  readonly bytesPerSecond?: number;
  /** Share of the machine's CPU time (all cores together = 100) the agent may use while it scans; absent: no limit. */
  readonly cpuSharePercent?: number;
  /** Observations sent to the manager per second, at most (Wazuh's `max_eps`); 0: no limit. */
  readonly maxEps: number;
}

/** An integer, as YAML writes it or as text (`ossec.conf`), within a range. */
function integer(min: number, max: number): z.ZodType<number, unknown> {
  return z
    .union(
      [
        z.number(),
        z
          .string()
          .trim()
          .regex(/^[-+]?\d+$/, 'expected a whole number'),
      ],
      { error: 'expected a whole number' },
    )
    .transform(Number)
    .pipe(z.number({ error: 'expected a whole number' }).int('expected a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));
}

const positiveSize = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const bytes = parseSizeBytes(v);
  if (bytes === undefined || bytes <= 0) ctx.addIssue({ code: 'custom', message: `"${v}" is not a size per second above 0 (e.g. 20MiB)` });
  return bytes ?? 0;
});

const ioPriority = z.string().transform((text, ctx): IoPriority => {
  const match = /^(best-effort|idle)(?::([0-7]))?$/.exec(text.trim());
  if (match === null || (match[1] === 'idle' && match[2] !== undefined)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not an I/O priority (expected idle, best-effort or best-effort:0 to best-effort:7)` });
    return { ioClass: 'best-effort', level: 7 };
  }
  return { ioClass: match[1] as IoPriorityClass, level: match[2] === undefined ? (match[1] === 'idle' ? 0 : 7) : Number(match[2]) };
});

const percent = z
  .union(
    [
      z.number(),
      z
        .string()
        .trim()
        .regex(/^\d+(?:\.\d+)?%?$/, 'expected a percentage, e.g. 25 or 25%'),
    ],
    { error: 'expected a percentage, e.g. 25 or 25%' },
  )
  .transform((v) => (typeof v === 'number' ? v : Number(v.replace('%', ''))))
  .pipe(z.number().gt(0, 'must be above 0').max(100, 'must be at most 100'));

/**
 * The `syscheck` keys of the scan throttle, in the file's snake_case, to spread into the `syscheck` schema.
 * Defaults: Wazuh's `process_priority` (10), the I/O priority of the systemd unit (best-effort 7), no rate or CPU
 * limit, and no `max_eps` (Wazuh's 50 events/s would hold a first scan's 100,000 entries back for half an hour:
 * Custos sends them in batches the manager acknowledges, so there is no event queue to protect).
 */
export const scanThrottleSchema = {
  process_priority: integer(-20, 19).prefault(10),
  io_priority: ioPriority.prefault('best-effort:7'),
  scan_files_per_second: integer(1, 100_000_000).optional(),
  scan_bytes_per_second: positiveSize.optional(),
  scan_cpu_share: percent.optional(),
  max_eps: integer(0, 1_000_000).prefault(0),
};

/** The validated keys of {@link scanThrottleSchema}. */
export interface ScanThrottleInput {
  readonly process_priority: number;
  readonly io_priority: IoPriority;
  readonly scan_files_per_second?: number | undefined;
  readonly scan_bytes_per_second?: number | undefined;
  readonly scan_cpu_share?: number | undefined;
  readonly max_eps: number;
}

/** The model of the validated keys. */
export function toScanThrottleConfig(s: ScanThrottleInput): ScanThrottleConfig {
  return {
    processPriority: s.process_priority,
    ioPriority: s.io_priority,
    ...(s.scan_files_per_second === undefined ? {} : { filesPerSecond: s.scan_files_per_second }),
    ...(s.scan_bytes_per_second === undefined ? {} : { bytesPerSecond: s.scan_bytes_per_second }),
    ...(s.scan_cpu_share === undefined ? {} : { cpuSharePercent: s.scan_cpu_share }),
    maxEps: s.max_eps,
  };
}

/** The `<syscheck>` tags of `ossec.conf` that carry these settings (the first two are OSSEC's and Wazuh's own). */
export const SCAN_THROTTLE_OSSEC_TAGS = [
  'process_priority',
  'max_eps',
  'io_priority',
  'scan_files_per_second',
  'scan_bytes_per_second',
  'scan_cpu_share',
] as const;

/** The throttle when the configuration names none (the schema's defaults). */
export const DEFAULT_SCAN_THROTTLE: ScanThrottleConfig = Object.freeze({
  processPriority: 10,
  ioPriority: Object.freeze({ ioClass: 'best-effort', level: 7 }),
  maxEps: 0,
});
