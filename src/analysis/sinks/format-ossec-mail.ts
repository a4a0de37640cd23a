import type { AnyAlert } from '../../core/build-alert.js';
import { ossecDate, ossecLocation, ossecLogText } from './format-ossec-alert.js';

/** A notification ready to send: OSSEC's subject and plain-text body. */
export interface OssecMail {
  readonly subject: string;
  readonly text: string;
}

/**
 * Formats alerts as one OSSEC notification mail. The subject is OSSEC's `OSSEC Notification - <location> - Alert
 * level N`, taken from the highest-level alert so a grouped mail never hides a severe alert behind a mild one (OSSEC
 * takes the first). The body is OSSEC's, one block per alert: the date, `Received From:`, the rule line and the
 * alert's log text (the same text as in `alerts.log`, with non-UTF-8 bytes in paths shown as `\xNN` escapes),
 * each closed by ` --END OF NOTIFICATION`.
 */
export function formatOssecMail(alerts: readonly AnyAlert[], hostname: string): OssecMail {
  const first = alerts[0];
  if (first === undefined) throw new Error('formatOssecMail needs at least one alert');
  const top = alerts.reduce((a, b) => (b.rule.level > a.rule.level ? b : a), first);
  const blocks = alerts.map((alert) =>
    [
      'OSSEC HIDS Notification.',
      ossecDate(alert),
      '',
      `Received From: ${ossecLocation(alert, hostname)}`,
      `Rule: ${alert.rule.id} fired (level ${alert.rule.level}) -> "${alert.rule.description}"`,
      'Portion of the log(s):',
      '',
      ossecLogText(alert),
      '',
      '',
      '',
      ' --END OF NOTIFICATION',
      '',
      '',
      '',
    ].join('\n'),
  );
  return {
    subject: `OSSEC Notification - ${ossecLocation(top, hostname)} - Alert level ${top.rule.level}`,
    text: `\n${blocks.join('')}`,
  };
}
