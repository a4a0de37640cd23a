import type { AnyAlert } from '../core/build-alert.js';

/** Somewhere alerts go once they are safely stored: a file, stdout, syslog, a webhook. */
export interface AlertSink {
  /** Delivers alerts, in order. Called only after the alerts' events are committed. */
  write(alerts: readonly AnyAlert[]): Promise<void>;
  close(): Promise<void>;
}
