import type { AnyAlert } from '../core/build-alert.js';

/** Somewhere alerts go once they are safely stored: a file, stdout, syslog, a webhook. */
export interface AlertSink {
  /** Delivers alerts, in order. Called only after the alerts' events are committed. */
  write(alerts: readonly AnyAlert[]): Promise<void>;
  /**
   * Delivers alerts a crashed run had committed but may not have handed over (all, some or none of them). A sink
   * that can see what it already holds (a file) delivers only the rest; without this method they are written
   * again, at least once, and the alert `id` lets a receiver drop repeats.
   */
  redeliver?(alerts: readonly AnyAlert[]): Promise<void>;
  /**
   * Reopens what the sink writes to by name, so a file renamed by log rotation is let go (SIGHUP). Alerts are
   * written synchronously, so a reopen falls between two writes: each line lands in one file, once.
   */
  reopen?(): void;
  close(): Promise<void>;
}
