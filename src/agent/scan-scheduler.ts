import type { SyscheckConfig } from '../core/config/custos-config.js';
import { nextScanAt } from '../core/scan-schedule.js';

/** What the scheduler reads and runs. */
export interface ScanSchedulerDeps {
  /** When the last scheduled scan ended (ms since the epoch), if ever. */
  readonly lastScanEnd: () => number | undefined;
  /** The settings in effect (frequency, or scan_time/scan_day); read again for every scan, as they may change. */
  readonly syscheck: () => SyscheckConfig;
  /** Runs one scheduled scan (queued behind any scan in progress). */
  readonly scan: () => Promise<void>;
  readonly now?: () => number;
}

/** Timers never wait longer than this (setTimeout's limit, about 24.8 days). */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * Runs scheduled scans forever: each one at the time `nextScanAt` gives from when the last one ended (at least a
 * second later), then schedules the next once it finished, so scans never pile up behind a slow one.
 */
export class ScanScheduler {
  readonly #deps: ScanSchedulerDeps;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: ScanSchedulerDeps) {
    this.#deps = deps;
  }

  /** How long until the next scheduled scan is due (ms), at least one second. */
  delayMs(): number {
    const now = this.#deps.now?.() ?? Date.now();
    const at = nextScanAt(this.#deps.lastScanEnd(), new Date(now), this.#deps.syscheck());
    return Math.max(1000, Math.min(at - now, MAX_DELAY_MS));
  }

  /** Scans now, then keeps to the schedule. */
  startWithScan(): void {
    // A failed scan was logged where it ran; the schedule goes on.
    void this.#deps
      .scan()
      .catch(() => undefined)
      .finally(() => this.scheduleNext());
  }

  /** Keeps to the schedule from now. */
  scheduleNext(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.startWithScan(), this.delayMs());
  }

  /** No scan is started after this. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }
}
