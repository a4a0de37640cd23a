import type { AnyAlert } from './build-alert.js';

/** What an alert line needs beyond the alert: who wrote it, whether it is mailed, and the local time zone. */
export interface WazuhJsonContext {
  /** Wazuh's `manager.name`: the manager's host name, or the configured name. */
  readonly managerName: string;
  /** Whether the email settings mail this alert (Wazuh's `rule.mail`). */
  readonly mailed: (alert: AnyAlert) => boolean;
  /** The local time zone's offset from UTC at an instant, in minutes east (`-new Date(ms).getTimezoneOffset()`). */
  readonly offsetMinutes: (ms: number) => number;
}

/**
 * An alert as Wazuh writes it in `alerts.json` (and as `--json` prints it): `timestamp` in local time with its
 * offset and milliseconds (`2026-11-30T10:00:00.000+0000`), `manager.name`, `rule.mail` (a boolean),
 * `syscheck.mtime_before`/`mtime_after` in local time to the second (`2026-11-30T09:58:12`, Wazuh's format). The
 * rest is the alert as built; Custos's own keys (`known_hash`, `custos`, `syscheck.path_bytes`) stay as they are.
 */
export function wazuhAlertJson(alert: AnyAlert, context: WazuhJsonContext): Record<string, unknown> {
  const { timestamp, id, agent, rule, ...rest } = alert;
  // The email option is how `mail` is decided, not a field of Wazuh's rule.
  const { email: _option, ...shownRule } = rule;
  const out: Record<string, unknown> = {
    timestamp: wazuhTimestamp(timestamp, context.offsetMinutes),
    id,
    agent,
    manager: { name: context.managerName },
    rule: { ...shownRule, mail: context.mailed(alert) },
    ...rest,
  };
  const syscheck = (rest as { syscheck?: Record<string, unknown> }).syscheck;
  if (syscheck !== undefined && (typeof syscheck.mtime_after === 'string' || typeof syscheck.mtime_before === 'string')) {
    const shown: Record<string, unknown> = { ...syscheck };
    for (const key of ['mtime_before', 'mtime_after'] as const) {
      const value = syscheck[key];
      if (typeof value === 'string') shown[key] = wazuhMtime(value, context.offsetMinutes);
    }
    out.syscheck = shown;
  }
  return out;
}

/** `2026-11-30T10:00:00.000Z` as Wazuh writes its alert time: local, with milliseconds and `+hhmm`. */
export function wazuhTimestamp(iso: string, offsetMinutes: (ms: number) => number): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const offset = offsetMinutes(ms);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${new Date(ms + offset * 60_000).toISOString().slice(0, 23)}${zone}`;
}

/**
 * A modification time (Custos's `…T09:58:12.123456789Z`) as Wazuh writes it: local time to the second, no zone.
 * The nanoseconds stay in the history (`custos events --json`).
 */
export function wazuhMtime(iso: string, offsetMinutes: (ms: number) => number): string {
  const ms = Date.parse(`${iso.slice(0, 19)}Z`);
  if (Number.isNaN(ms)) return iso;
  return new Date(ms + offsetMinutes(ms) * 60_000).toISOString().slice(0, 19);
}
