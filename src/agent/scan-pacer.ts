import type { ScanThrottleConfig } from '../core/config/scan-throttle-config.js';
import { CpuShareLimiter, processCpuMs, RateLimiter, type CpuClock } from './rate-limiter.js';

/** What a pacer held a scan to, and what it cost in waiting. */
export interface ScanPacing {
  /** Entries the scan examined. */
  readonly files: number;
  /** Bytes it queued for hashing. */
  readonly bytes: number;
  /** Milliseconds it waited for the files/s and bytes/s limits. */
  readonly rateWaitMs: number;
  /** Milliseconds it paused to keep its CPU share. */
  readonly cpuPauseMs: number;
}

/** How often (wall milliseconds) the CPU share is checked: process CPU time is a system call. */
const CPU_CHECK_MS = 20;

/**
 * Paces a scheduled scan to the configured throttle: entries per second, bytes hashed per second, and the share of
 * the machine's CPU the process may use while the scan runs. The scan reports each entry it examines and asks
 * how long to wait; it never skips one.
 */
export class ScanPacer {
  readonly #files: RateLimiter | undefined;
  readonly #bytes: RateLimiter | undefined;
  readonly #cpu: CpuShareLimiter | undefined;
  readonly #now: () => number;
  #filesSeen = 0;
  #bytesSeen = 0;
  #nextCpuCheck = 0;

  constructor(throttle: ScanThrottleConfig, cores: number, clocks: { now?: () => number; cpu?: CpuClock } = {}) {
    this.#now = clocks.now ?? (() => performance.now());
    this.#files = throttle.filesPerSecond === undefined ? undefined : new RateLimiter(throttle.filesPerSecond, this.#now);
    this.#bytes = throttle.bytesPerSecond === undefined ? undefined : new RateLimiter(throttle.bytesPerSecond, this.#now);
    this.#cpu =
      throttle.cpuSharePercent === undefined ? undefined : new CpuShareLimiter(throttle.cpuSharePercent, cores, clocks.cpu ?? processCpuMs, this.#now);
  }

  /** Whether any limit is set (a scan without one is not slowed by the accounting). */
  static limits(throttle: ScanThrottleConfig): boolean {
    return throttle.filesPerSecond !== undefined || throttle.bytesPerSecond !== undefined || throttle.cpuSharePercent !== undefined;
  }

  /** Accounts for entries examined and bytes queued for hashing; returns the milliseconds to wait (0: none). */
  account(files: number, bytes: number): number {
    this.#filesSeen += files;
    this.#bytesSeen += bytes;
    let wait = Math.max(this.#files?.take(files) ?? 0, bytes > 0 ? (this.#bytes?.take(bytes) ?? 0) : 0);
    if (this.#cpu !== undefined) {
      const now = this.#now();
      if (now >= this.#nextCpuCheck || wait > 0) {
        this.#nextCpuCheck = now + CPU_CHECK_MS;
        wait = Math.max(wait, this.#cpu.pause());
      }
    }
    return wait;
  }

  /** What the pacing did so far. */
  get pacing(): ScanPacing {
    return {
      files: this.#filesSeen,
      bytes: this.#bytesSeen,
      rateWaitMs: Math.round((this.#files?.waitedMs ?? 0) + (this.#bytes?.waitedMs ?? 0)),
      cpuPauseMs: Math.round(this.#cpu?.pausedMs ?? 0),
    };
  }
}
