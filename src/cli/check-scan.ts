import { dirname } from 'node:path';
import { hostname } from 'node:os';
import { createScanStats } from '../agent/scan-stats.js';
import type { AlertSink } from '../analysis/alert-sink.js';
import { loadRuleSet } from '../analysis/load-rule-set.js';
import { JsonLinesAlertSink } from '../analysis/sinks/json-lines-alert-sink.js';
import { OssecLogAlertSink } from '../analysis/sinks/ossec-log-alert-sink.js';
import { wazuhJsonContext } from '../analysis/sinks/wazuh-json-context.js';
import type { CustosConfig } from '../core/config/custos-config.js';
import { displayPath } from '../core/path-bytes.js';
import { Md5Allowlist } from '../hashdb/md5-allowlist.js';
import { assertPrivatePath } from '../storage/private-path.js';
import { actorName } from './actor-name.js';
import { EXIT } from './exit-codes.js';
import { openEmailSink } from './open-email-sink.js';
import { openKnownHashes } from './open-known-hashes.js';
import { historyHeadLine, openOffHostSinks, scanSummaryAlert } from './off-host-sinks.js';
import { openGuardedStore } from './guarded-store.js';
import { reportWarnings } from './report-warnings.js';
import { openContentStore } from './open-content-store.js';
import { LOCAL_AGENT_ID, runCheck, type RunCheckResult } from './run-check.js';
import type { ScanWalk } from './scan-walk.js';
import { startScanProgress } from './scan-progress.js';
import { summaryJson } from './summary-json.js';
import { StdoutAlertSink } from './stdout-alert-sink.js';

// What `custos check` and `accept` do once their walk has started (check-command.ts): loaded then, so that
// compiling the rules, the store, the sinks and the analysis pipeline overlaps with the walk instead of delaying it.

/** The flags `check` and `accept` take. */
export interface CheckFlags {
  readonly config?: string;
  readonly db?: string;
  readonly json?: boolean;
  readonly rehash?: boolean;
  readonly root?: string;
  readonly hashdb?: string;
}

/** What check-command.ts hands over: the parsed command line, the loaded configuration, the walk already started. */
export interface ScanRequest {
  readonly mode: 'check' | 'accept';
  readonly flags: CheckFlags;
  readonly config: CustosConfig;
  readonly paths: readonly string[];
  /** Absent when syscheck is disabled. */
  readonly walk: ScanWalk | undefined;
}

/**
 * The rest of one standalone scan: loads and checks the rules, opens the store (its integrity checks) and the sinks,
 * runs the scan, prints the summary and the history head. Returns the exit status (0 nothing alerted, 1 alerts).
 */
export async function runScan({ mode, flags, config, paths, walk }: ScanRequest): Promise<number> {
  const rules = loadRuleSet(config.rules, reportWarnings);
  // OSSEC's <disabled>yes</disabled>: the configuration and rules are still checked, nothing is scanned and the
  // baseline is left as it is (a scan of nothing would read as every file deleted).
  if (config.syscheck.disabled) {
    process.stderr.write('custos: syscheck is disabled in the configuration (<disabled>yes</disabled>): nothing scanned\n');
    return EXIT.OK;
  }
  for (const file of new Set([dirname(config.alerts.jsonPath), dirname(config.alerts.logPath)])) assertPrivatePath(file, 'alert directory');
  const guarded = await openGuardedStore(config, LOCAL_AGENT_ID);
  const { store } = guarded;
  const knownHashes = await openKnownHashes(config, flags.hashdb);
  const contentStore = openContentStore(config);
  const md5Allowlist = config.knownHashes.md5AllowlistPath === undefined ? undefined : Md5Allowlist.open(config.knownHashes.md5AllowlistPath);
  const sinks: AlertSink[] = [];
  if (mode === 'check') {
    const wazuh = wazuhJsonContext(config.alerts.managerName ?? hostname(), config.email, hostname());
    sinks.push(new StdoutAlertSink(flags.json === true, hostname(), wazuh));
    sinks.push(new JsonLinesAlertSink(config.alerts.jsonPath, wazuh), new OssecLogAlertSink(config.alerts.logPath, hostname()));
    const email = openEmailSink(config, store, hostname(), (message) => process.stderr.write(`custos: ${message}\n`), false);
    if (email !== undefined) sinks.push(email);
  }
  const offHost = mode === 'check' ? await openOffHostSinks(config.alerts, (message) => process.stderr.write(`custos: ${message}\n`)) : [];
  sinks.push(...offHost);
  const stats = createScanStats();
  const stopProgress = startScanProgress(stats);
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcome = await runCheck({
      config,
      store,
      ...(knownHashes === undefined ? {} : { knownHashes }),
      ...(md5Allowlist === undefined ? {} : { md5Allowlist }),
      ...(contentStore === undefined ? {} : { contentStore }),
      rules,
      sinks,
      paths,
      ...(flags.root === undefined ? {} : { rootDir: flags.root }),
      mode,
      actor: actorName(),
      rehash: flags.rehash === true,
      stats,
      signal: abort.signal,
      ...(walk === undefined ? {} : { walk }),
    });
    stopProgress();
    process.stderr.write(summaryLine(mode, outcome));
    // Copied off the host (cron mail, syslog, the webhook), it lets `custos verify --head` find a history rewritten since.
    const marker = await guarded.seal();
    if (marker !== undefined) {
      process.stderr.write(historyHeadLine(marker));
      const summary = scanSummaryAlert(marker, { id: LOCAL_AGENT_ID, name: config.agentName }, new Date());
      await Promise.all(offHost.map((sink) => sink.write([summary])));
    }
    if (flags.json === true) process.stderr.write(summaryJson(mode, outcome, marker));
    return outcome.ingest.alerts + outcome.redelivered + outcome.hostAlerts + outcome.notScanned + outcome.subtreesNotScanned > 0 ? EXIT.ALERTS : EXIT.OK;
  } finally {
    stopProgress();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(sinks.map((sink) => sink.close()));
    await knownHashes?.close();
    md5Allowlist?.close();
    contentStore?.close();
    await guarded.close();
  }
}

function summaryLine(mode: 'check' | 'accept', r: RunCheckResult): string {
  const seconds = r.durationMs / 1000;
  const mbps = r.scan.bytesHashed / 1e6 / Math.max(seconds, 0.001);
  const { added, modified, deleted, alerts, recorded, accepted } = r.ingest;
  const lines: string[] = [];
  if (r.redelivered > 0) lines.push(`custos: delivered ${r.redelivered} alerts that an interrupted earlier check had stored but not yet written out`);
  if (r.hostAlerts > 0) lines.push('custos: the package database changed after the last known-hash import (rule 568): run custos hashdb import dpkg (or rpm)');
  lines.push(
    `custos: scanned ${r.scan.entries} entries in ${seconds.toFixed(1)} s: ${r.scan.hashed} hashed (${mbps.toFixed(1)} MB/s), ${r.scan.reused} unchanged by stat${r.rehashed ? ' (full rehash)' : ''}`,
  );
  if (r.scan.attributesOnly > 0) {
    lines.push(
      `custos: ${r.scan.attributesOnly} files over max_file_size checked by attributes only (their content is not read; a change of ctime alone is reported)`,
    );
  }
  if (r.builtBaseline) {
    lines.push(
      `custos: first scan of newly monitored directories: ${r.ingest.baselined} entries taken into the baseline without alerts (${r.baselineEntries ?? '?'} entries in the baseline)`,
    );
  }
  const changes = `${added} added, ${modified} modified, ${deleted} deleted`;
  lines.push(
    mode === 'accept'
      ? `custos: ${changes}; ${accepted} accepted into the baseline`
      : `custos: ${changes}; ${alerts} alerts, ${recorded} recorded without alert`,
  );
  if (r.scan.issues > 0) {
    lines.push(
      `custos: ${r.scan.issues} files could not be read completely; their attributes are recorded (an unreadable file keeps its last digests while its stat is unchanged; a file that kept changing while read alerts, rule 578):`,
    );
    for (const { path, issue } of r.scan.issueSamples) lines.push(`custos:   ${displayPath(path)}: ${issue.code} (${issue.message})`);
    if (r.scan.issues > r.scan.issueSamples.length) lines.push(`custos:   ... and ${r.scan.issues - r.scan.issueSamples.length} more`);
  }
  if (r.scan.unscannedHiding > 0) {
    const alerted = r.subtreesNotScanned > 0 ? ' (alerted, rule 574)' : '';
    lines.push(`custos: ${r.scan.unscannedHiding} subtrees could not be scanned${alerted}; changes below them are not seen, their baseline entries were kept:`);
    for (const { path, issue } of r.scan.unscannedSamples) lines.push(`custos:   ${displayPath(path)}: ${issue.code} (${issue.message})`);
    if (r.scan.unscannedHiding > r.scan.unscannedSamples.length)
      lines.push(`custos:   ... and ${r.scan.unscannedHiding - r.scan.unscannedSamples.length} more`);
  }
  const skipped = r.scan.unscanned - r.scan.unscannedHiding;
  if (skipped > 0) lines.push(`custos: ${skipped} subtrees skipped (file systems of skipped types, directory loops); their baseline entries were kept`);
  for (const root of r.scan.unscannableRoots) {
    lines.push(`custos: nothing scanned in monitored directory ${displayPath(root.path)}: ${root.reason}${r.notScanned > 0 ? ' (alerted, rule 572)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
