/**
 * A token bucket: `rate` units a second, up to one second's worth saved up. `take(n)` always grants (a scan never
 * skips a file) and returns how long the caller must wait to stay within the rate: taking more than is saved
 * runs into debt that the wait pays off. Time is injected for tests.
 */
export class RateLimiter {
  readonly rate: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;
  /** Units taken so far. */
  taken = 0;
  /** Milliseconds of waiting asked for so far. */
  waitedMs = 0;

  /** `rate` in units per second (above 0). */
  constructor(rate: number, now: () => number = () => performance.now()) {
    if (!(rate > 0)) throw new RangeError(`a rate limit must be above 0, got ${rate}`);
    this.rate = rate;
    this.#now = now;
    this.#last = now();
    // Start empty: the first second of a scan is held to the rate like every other.
    this.#tokens = 0;
  }

  /** Takes `n` units; returns the milliseconds to wait before going on (0: none). */
  take(n: number): number {
    const now = this.#now();
    this.#tokens = Math.min(this.rate, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    this.#tokens -= n;
    this.taken += n;
    if (this.#tokens >= 0) return 0;
    const wait = (-this.#tokens / this.rate) * 1000;
    this.waitedMs += wait;
    return wait;
  }
}

/** Process CPU time in milliseconds, all threads (user + system). */
export type CpuClock = () => number;

/** The process's CPU time, all its threads together (getrusage RUSAGE_SELF). */
export const processCpuMs: CpuClock = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/**
 * Keeps the process's CPU use at a share of the machine over a run: compares the CPU time spent since the start
 * with what the share allows for the wall time passed (share x cores x wall) and, when over, returns the pause
 * that brings the average back (during a pause the scan's threads run out of work and the process sleeps).
 */
export class CpuShareLimiter {
  /** The share as a fraction of one core: 25% of a 2-core machine is 0.5. */
  readonly coresAllowed: number;
  readonly #cpu: CpuClock;
  readonly #now: () => number;
  readonly #startCpu: number;
  readonly #startWall: number;
  /** Milliseconds of pause asked for so far. */
  pausedMs = 0;

  constructor(sharePercent: number, cores: number, cpu: CpuClock = processCpuMs, now: () => number = () => performance.now()) {
    if (!(sharePercent > 0 && sharePercent <= 100)) throw new RangeError(`a CPU share must be above 0 and at most 100, got ${sharePercent}`);
    this.coresAllowed = (sharePercent / 100) * Math.max(1, cores);
    this.#cpu = cpu;
    this.#now = now;
    this.#startCpu = cpu();
    this.#startWall = now();
  }

  /** The milliseconds to pause now to keep the share over the run so far (0: within it). */
  pause(): number {
    const used = this.#cpu() - this.#startCpu;
    const allowed = (this.#now() - this.#startWall) * this.coresAllowed;
    if (used <= allowed) return 0;
    const wait = (used - allowed) / this.coresAllowed;
    this.pausedMs += wait;
    return wait;
  }

  /** The share of the machine used since the start, in percent of all cores (the figure the limit holds). */
  usedPercent(cores: number): number {
    const wall = this.#now() - this.#startWall;
    return wall <= 0 ? 0 : (100 * (this.#cpu() - this.#startCpu)) / wall / Math.max(1, cores);
  }
}
