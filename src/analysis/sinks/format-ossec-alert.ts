import { ruleGroups, type AnyAlert } from '../../core/build-alert.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** OSSEC caps the log text of one alert in `alerts.log`. */
const MAX_LOG_CHARS = 1256;

/**
 * Formats one alert as OSSEC writes it to `alerts.log`: the `** Alert` header with the groups, the date and
 * location line, the rule line, the alert text, and a blank line. Local time, as OSSEC does.
 * `hostname` is the monitored host for standalone mode (OSSEC's `host->syscheck`); agents appear as
 * `(name) any->syscheck`.
 */
export function formatOssecAlert(alert: AnyAlert, hostname: string): string {
  return [
    `** Alert ${alert.id}: - ${ruleGroups(alert.rule).join(',')},`,
    `${ossecDate(alert)} ${ossecLocation(alert, hostname)}`,
    `Rule: ${alert.rule.id} (level ${alert.rule.level}) -> '${alert.rule.description}'`,
    ossecLogText(alert),
    '',
    '',
  ].join('\n');
}

/** The alert's time as OSSEC writes it (`2026 Nov 29 21:57:03`), in local time. */
export function ossecDate(alert: AnyAlert): string {
  const t = new Date(alert.timestamp);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${t.getFullYear()} ${MONTHS[t.getMonth()] ?? ''} ${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}

/** Where OSSEC says an alert came from: `host->syscheck` standalone, `(agent) any->syscheck` for an agent. */
export function ossecLocation(alert: AnyAlert, hostname: string): string {
  return alert.agent.id === '000' ? `${hostname}->syscheck` : `(${alert.agent.name}) any->syscheck`;
}

/**
 * The alert's log text, capped as OSSEC caps it (paths in it are already escaped, never raw bytes), then, for a
 * report_changes file, OSSEC's `What changed:` block with the diff (capped in lines when it was made).
 */
export function ossecLogText(alert: AnyAlert): string {
  const text = alert.full_log.slice(0, MAX_LOG_CHARS);
  const diff = 'syscheck' in alert ? alert.syscheck.diff : undefined;
  return typeof diff === 'string' ? `${text}\nWhat changed:\n${diff}` : text;
}
