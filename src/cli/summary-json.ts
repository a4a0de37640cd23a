import type { HistoryMarker } from '../storage/history-marker.js';
import type { RunCheckResult } from './run-check.js';

/**
 * The scan summary as one JSON object (`{"custos_summary": {...}}`), what `check --json` writes to stderr after
 * the alerts went to stdout: stdout stays alerts only (Wazuh's alerts.json lines, which pipelines read), and a
 * script still gets the counts the text summary gives, the files checked by attributes only among them.
 */
export function summaryJson(mode: 'check' | 'accept', r: RunCheckResult, marker: HistoryMarker | undefined): string {
  const summary = {
    mode,
    duration_ms: Math.round(r.durationMs),
    entries: r.scan.entries,
    hashed: r.scan.hashed,
    unchanged_by_stat: r.scan.reused,
    bytes_hashed: r.scan.bytesHashed,
    full_rehash: r.rehashed,
    // Over max_file_size: their content is not read; a change of ctime alone is reported.
    attributes_only: r.scan.attributesOnly,
    files_not_read_completely: r.scan.issues,
    subtrees_not_scanned: r.scan.unscannedHiding,
    subtrees_skipped: r.scan.unscanned - r.scan.unscannedHiding,
    directories_not_scanned: r.scan.unscannableRoots.length,
    built_baseline: r.builtBaseline,
    added: r.ingest.added,
    modified: r.ingest.modified,
    deleted: r.ingest.deleted,
    alerts: r.ingest.alerts + r.redelivered + r.hostAlerts + r.notScanned + r.subtreesNotScanned,
    recorded_without_alert: r.ingest.recorded,
    accepted: r.ingest.accepted,
    ...(marker === undefined
      ? {}
      : {
          history: {
            records: marker.length,
            ...(marker.lastId === undefined ? {} : { last_id: marker.lastId, chain_hash: marker.lastHash }),
            ...(marker.baselineDigest === undefined ? {} : { baseline_digest: marker.baselineDigest }),
            ...(marker.signature === undefined ? {} : { signature: marker.signature }),
          },
        }),
  };
  return `${JSON.stringify({ custos_summary: summary })}\n`;
}
