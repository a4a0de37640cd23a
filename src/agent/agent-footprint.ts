import { readFileSync } from 'node:fs';
import type { ScanThrottleConfig } from '../core/config/scan-throttle-config.js';
import type { AgentFootprintReport } from '../protocol/wire.js';

/** What an agent process holds and how its scans are throttled, as `custos status` shows it. */
export interface AgentFootprint {
  /** When it was measured (ISO 8601). */
  readonly at: string;
  /** Resident memory (VmRSS), bytes. */
  readonly rssBytes: number;
  readonly threads: number;
  readonly throttle: ScanThrottleConfig;
}

/** The meta key of `agent.db` the running agent keeps its last footprint under. */
export const FOOTPRINT_META_KEY = 'footprint';

/** Reads this process's resident memory and thread count from /proc/self/status. */
export function measureFootprint(throttle: ScanThrottleConfig, now: Date = new Date()): AgentFootprint {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { at: now.toISOString(), rssBytes: field('VmRSS') * 1024, threads: field('Threads'), throttle };
}

/** One line for people: `nice 10, I/O best-effort:7, 25% CPU, 500 files/s, 20 MiB/s, 100 events/s`. */
export function describeThrottle(t: ScanThrottleConfig): string {
  const parts = [`nice ${t.processPriority}`, `I/O ${t.ioPriority.ioClass}${t.ioPriority.ioClass === 'idle' ? '' : `:${t.ioPriority.level}`}`];
  if (t.cpuSharePercent !== undefined) parts.push(`${t.cpuSharePercent}% CPU`);
  if (t.filesPerSecond !== undefined) parts.push(`${t.filesPerSecond} files/s`);
  if (t.bytesPerSecond !== undefined) parts.push(`${(t.bytesPerSecond / 2 ** 20).toFixed(1)} MiB/s`);
  parts.push(t.maxEps === 0 ? 'events unlimited' : `${t.maxEps} events/s`);
  return parts.join(', ');
}

/** The footprint as a keep-alive carries it to the manager (for its `/metrics`). */
export function footprintReport(f: AgentFootprint): AgentFootprintReport {
  const t = f.throttle;
  return {
    rssBytes: f.rssBytes,
    threads: f.threads,
    throttle: {
      processPriority: t.processPriority,
      ioClass: t.ioPriority.ioClass,
      ioLevel: t.ioPriority.level,
      ...(t.filesPerSecond === undefined ? {} : { filesPerSecond: t.filesPerSecond }),
      ...(t.bytesPerSecond === undefined ? {} : { bytesPerSecond: t.bytesPerSecond }),
      ...(t.cpuSharePercent === undefined ? {} : { cpuSharePercent: t.cpuSharePercent }),
      maxEps: t.maxEps,
    },
  };
}
