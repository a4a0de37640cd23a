import { readFileSync } from 'node:fs';
import type { AlertSink } from '../analysis/alert-sink.js';
import { buildAgentAlert } from '../core/agent-alerts.js';
import { newAlertId } from '../core/alert-id.js';
import type { AgentRef } from '../core/build-alert.js';
import type { AlertOutputConfig } from '../core/config/custos-config.js';
import type { HistoryMarker } from '../storage/history-marker.js';

/**
 * The standalone check's sinks that leave the host (`alerts.syslog`, `alerts.webhook`); empty when none is set. Each
 * sink's module is loaded only when it is configured: with them, `check` compiled Node's http, https, tls, net and
 * dgram modules at every start, for a sink most hosts do not set.
 */
export async function openOffHostSinks(alerts: AlertOutputConfig, log: (message: string) => void): Promise<AlertSink[]> {
  const sinks: AlertSink[] = [];
  const s = alerts.syslog;
  if (s !== undefined) {
    const { SyslogAlertSink } = await import('../analysis/sinks/syslog-alert-sink.js');
    sinks.push(
      new SyslogAlertSink({ host: s.host, port: s.port, protocol: s.protocol, ...(s.caFile === undefined ? {} : { ca: readFileSync(s.caFile, 'utf8') }) }, log),
    );
  }
  const w = alerts.webhook;
  if (w !== undefined) {
    const { WebhookAlertSink } = await import('../analysis/sinks/webhook-alert-sink.js');
    sinks.push(new WebhookAlertSink({ url: w.url, headers: w.headers, ...(w.caFile === undefined ? {} : { ca: readFileSync(w.caFile, 'utf8') }) }, log));
  }
  return sinks;
}

/**
 * Rule 576: the end of a scan, with the history head, the baseline's digest and (with a history key) their
 * signature, for the off-host sinks only. It is not recorded in the history (it describes the history's end, and
 * recording it would move that end). A copy kept elsewhere lets `custos verify --head` find a history rewritten
 * since, by someone who could write the database but not reach the receiver.
 */
export function scanSummaryAlert(marker: HistoryMarker, agent: AgentRef, now: Date): ReturnType<typeof buildAgentAlert> {
  return buildAgentAlert({
    id: newAlertId(now),
    timestamp: now,
    agent,
    event: 'scan-summary',
    details: {
      history_records: marker.length,
      ...(marker.lastId === undefined ? {} : { last_id: marker.lastId, chain_hash: marker.lastHash }),
      ...(marker.baselineDigest === undefined ? {} : { baseline_digest: marker.baselineDigest }),
      ...(marker.signature === undefined ? {} : { signature: marker.signature }),
    },
  });
}

/** The stderr line cron mails: the same head, digest and signature as the off-host summary. */
export function historyHeadLine(marker: HistoryMarker): string {
  const chain = marker.lastId === undefined ? 'no records yet' : `record ${marker.lastId}, ${marker.length} records, chain hash ${marker.lastHash ?? '?'}`;
  const digest = marker.baselineDigest === undefined ? '' : `, baseline digest ${marker.baselineDigest}`;
  const signature = marker.signature === undefined ? '' : `, signature ${marker.signature}`;
  return `custos: history head: ${chain}${digest}${signature}\n`;
}
