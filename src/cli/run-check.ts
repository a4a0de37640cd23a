import { HashPool } from '../agent/hash-pool.js';
import { readMountTable } from '../agent/mount-table.js';
import { scanTree } from '../agent/scan-tree.js';
import { createScanStats, type ScanStats } from '../agent/scan-stats.js';
import { readUserNames } from '../agent/user-names.js';
import type { AlertSink } from '../analysis/alert-sink.js';
import { redeliverAlerts } from '../analysis/deliver-alerts.js';
import { ingestObservations, type IngestSummary } from '../analysis/ingest-observations.js';
import { newAlertId } from '../core/alert-id.js';
import type { AgentRef } from '../core/build-alert.js';
import type { CustosConfig } from '../core/config/custos-config.js';
import { LAST_CHECK_META_KEY, type LastCheck } from '../core/last-check.js';
import { isWithin, subtreeKeyRange } from '../core/path-bytes.js';
import { compileScanScope } from '../core/scan-scope.js';
import { parseCorrelation, serializeCorrelation, type RuleSet } from '../core/rules/rule-set.js';
import { indexDiversions } from '../core/diversions.js';
import { hostIdentity } from '../hashdb/host-identity.js';
import { readDiversions, readInstalledVersions, usrAliasApplies } from '../host/dpkg-database.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import type { Md5AllowlistLookup } from '../hashdb/md5-allowlist.js';
import type { Store } from '../storage/store.js';
import type { ContentStore } from '../storage/content-store.js';
import { localContentDiffs } from '../analysis/content-diffs.js';
import { readContent } from '../agent/read-content.js';
import { compileContentPolicy } from '../core/diff/content-policy.js';
import { DEFAULT_DIFF_CONFIG } from '../core/config/custos-config.js';
import { hostPathOf } from '../core/path-bytes.js';
import { hostRootDir, type ScanWalk } from './scan-walk.js';
import { alertMissedImport, alertUnscannableRoots, alertUnscannedSubtrees } from './standalone-host-alerts.js';

/** Standalone mode is agent `000`, as OSSEC's local installation. */
export const LOCAL_AGENT_ID = '000';
const LAST_REHASH_KEY = 'last_full_rehash';
const CORRELATION_KEY = 'rule_correlation';

/** One standalone scan: `custos check` or `custos accept`. */
export interface RunCheckOptions {
  readonly config: CustosConfig;
  readonly store: Store;
  /** The known-hash database, when there is one. */
  readonly knownHashes?: KnownHashStore;
  /** OSSEC's md5 allowlist (`<global><md5_whitelist>`), when configured. */
  readonly md5Allowlist?: Md5AllowlistLookup;
  readonly rules: RuleSet;
  readonly sinks: readonly AlertSink[];
  /** Limit the scan to these paths (as seen inside `rootDir`). */
  readonly paths?: readonly string[];
  /** Monitor the file system mounted here as if it were `/`. */
  readonly rootDir?: string;
  readonly mode: 'check' | 'accept';
  readonly actor?: string;
  /** Rehash every file, ignoring cached digests. */
  readonly rehash?: boolean;
  readonly stats?: ScanStats;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  readonly hashWorkers?: number;
  /** Where report_changes content is kept (see openContentStore); without it no diffs are made. */
  readonly contentStore?: ContentStore;
  /** The walk, started early by `startScanWalk` (scan-walk.ts) with the same configuration, paths and root. */
  readonly walk?: ScanWalk;
}

/** What a standalone scan did. */
export interface RunCheckResult {
  readonly scan: ScanStats;
  readonly ingest: IngestSummary;
  readonly durationMs: number;
  readonly rehashed: boolean;
  /** Entries in the whole baseline, when a baseline was (partly) built by this run. */
  readonly baselineEntries: number | undefined;
  /** True when at least one scanned directory had no baseline yet (its content was recorded silently). */
  readonly builtBaseline: boolean;
  /** Alerts an interrupted earlier check had stored but not yet delivered, delivered before this scan. */
  readonly redelivered: number;
  /** Alerts about the host itself (the package database changed without an import: rule 568). */
  readonly hostAlerts: number;
  /** Rule 572 alerts raised: monitored directories the scan found nothing to scan in (`scan.unscannableRoots`). */
  readonly notScanned: number;
  /** Rule 574 alerts raised: subtrees of monitored directories the scan could not look into. */
  readonly subtreesNotScanned: number;
}

/**
 * Scans the configured (or given) paths on this host, compares them with the local baseline, records every
 * change, alerts through the sinks and advances the baseline: the agent's scanner wired straight into the
 * analysis pipeline, with the local SQLite store as both cache and trusted baseline.
 */
export async function runCheck(options: RunCheckOptions): Promise<RunCheckResult> {
  const now = options.now ?? ((): Date => new Date());
  const started = Date.now();
  const { config, store } = options;
  const agent: AgentRef = { id: LOCAL_AGENT_ID, name: config.agentName };
  await store.upsertAgent(agent);
  // `accept` has no sinks: what an interrupted check left undelivered waits for the next check.
  const redelivered = options.mode === 'check' ? await redeliverAlerts(store, options.sinks) : 0;
  const hostAlerts =
    options.mode === 'check' && options.knownHashes !== undefined
      ? await alertMissedImport(options.knownHashes, options.rootDir ?? '/', { store: options.store, sinks: options.sinks, agent, now })
      : 0;
  const scope = options.walk?.scope ?? compileScanScope(config.syscheck, options.paths ?? []);
  const scannedRoots = await store.scannedRoots(agent.id);
  const rehashed = options.rehash === true || (await rehashDue(store, config.syscheck.rehashIntervalMs, now()));
  const stats = options.stats ?? createScanStats();
  const rootDir = options.walk?.rootDir ?? hostRootDir(options.rootDir);
  // Frequency rules count across runs: their recent matches live in the store between checks.
  const correlation = parseCorrelation(await store.getMeta(agent.id, CORRELATION_KEY));
  // What is installed now, read at check time: only those versions' content is known-good.
  // A root without a dpkg database has no Debian package installed: no .deb's content is known-good there.
  const installedVersions = options.knownHashes === undefined ? undefined : (readInstalledVersions(options.rootDir ?? '/') ?? new Map());
  const diversions = installedVersions === undefined ? undefined : indexDiversions(readDiversions(options.rootDir ?? '/'));
  const pool = new HashPool(options.hashWorkers);
  // An interrupt stops the hashing workers at once, even in the middle of a file of many gigabytes.
  const stopHashing = (): void => void pool.close();
  options.signal?.addEventListener('abort', stopHashing, { once: true });
  const cacheRanges = scope.topLevelRoots.map((r) => subtreeKeyRange(r.path));
  try {
    const observations = scanTree({
      scope,
      mounts: options.walk?.mounts ?? readMountTable(config.syscheck.skip),
      ...(options.walk === undefined ? {} : { walk: options.walk.thread }),
      ...(rootDir === undefined ? {} : { rootDir }),
      pool,
      names: readUserNames(options.rootDir ?? '/'),
      maxFileSizeBytes: config.syscheck.maxFileSizeBytes,
      rehash: rehashed,
      // Packed pages where the store has them (SQLite): no object per unchanged file.
      cache: store.readFingerprintPages !== undefined ? store.readFingerprintPages(agent.id, cacheRanges) : store.readFingerprints(agent.id, cacheRanges),
      stats,
      checkRoots: true,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const roots = scope.topLevelRoots.map((r) => r.path);
    const ingest = await ingestObservations(
      observations,
      {
        store,
        ...(options.knownHashes === undefined ? {} : { knownHashes: options.knownHashes }),
        ...(options.md5Allowlist === undefined ? {} : { md5Allowlist: options.md5Allowlist }),
        ...(options.contentStore === undefined ? {} : { contentDiffs: standaloneContentDiffs(options.contentStore, config, rootDir) }),
        rules: options.rules,
        correlation,
        sinks: options.sinks,
        now,
        newAlertId,
      },
      {
        agent,
        mode: options.mode,
        ...(options.actor === undefined ? {} : { actor: options.actor }),
        alertNewFiles: config.syscheck.alertNewFiles,
        autoIgnore: config.syscheck.autoIgnore,
        scannedRoots,
        knownHashPolicy: config.knownHashes.policy,
        // Host-scoped known hashes follow the machine id, not the hostname (see hostIdentity).
        host: hostIdentity(options.rootDir ?? '/'),
        ...(installedVersions === undefined ? {} : { installedVersions }),
        ...(diversions === undefined ? {} : { diversions }),
        // The usrmerge alias only where /bin is not a real directory.
        ...(usrAliasApplies(options.rootDir ?? '/') ? {} : { usrMerged: false }),
        view: { mode: 'scheduled', fullLogStyle: config.alerts.fullLogStyle },
        // The directories count as scanned in the commit that ends the scan: a crash after it must not leave
        // their next changes to be taken silently as a first scan.
        finalBookkeeping: () => ({ rootsScanned: { roots, at: now().toISOString() } }),
      },
    );
    await store.setMeta(agent.id, CORRELATION_KEY, serializeCorrelation(correlation, now().getTime()));
    // Every run, not once: a directory that cannot be scanned hides every change below it for as long as it lasts.
    const notScanned = options.mode === 'check' ? await alertUnscannableRoots(stats.unscannableRoots, { store, sinks: options.sinks, agent, now }) : 0;
    // Likewise for a part of one (an unreadable directory): every run until it can be read again.
    const subtreesNotScanned = options.mode === 'check' ? await alertUnscannedSubtrees(stats, { store, sinks: options.sinks, agent, now }) : 0;
    if (rehashed && (options.paths ?? []).length === 0) await store.setMeta(agent.id, LAST_REHASH_KEY, now().toISOString());
    const lastCheck: LastCheck = {
      at: now().toISOString(),
      mode: options.mode,
      paths: options.paths ?? [],
      entries: stats.entries,
      added: ingest.added,
      modified: ingest.modified,
      deleted: ingest.deleted,
      alerts: ingest.alerts,
      notScanned,
      issues: stats.issues,
      durationMs: Date.now() - started,
    };
    await store.setMeta(agent.id, LAST_CHECK_META_KEY, JSON.stringify(lastCheck));
    const builtBaseline = roots.some((r) => !scannedRoots.some((s) => isWithin(r, s)));
    return {
      scan: stats,
      ingest,
      notScanned,
      subtreesNotScanned,
      durationMs: Date.now() - started,
      rehashed,
      // Counting is a full pass over the baseline: only worth it when the summary shows it.
      baselineEntries: builtBaseline ? await store.countBaseline(agent.id) : undefined,
      builtBaseline,
      redelivered,
      hostAlerts,
    };
  } catch (error) {
    // What the closed pool says ("hash pool closed") is not the news: the interrupt is.
    if (options.signal?.aborted === true) throw options.signal.reason;
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', stopHashing);
    options.walk?.thread.stop();
    await pool.close();
  }
}

/** Diffs for report_changes files, their content read from this host (under `rootDir` when given). */
function standaloneContentDiffs(store: ContentStore, config: CustosConfig, rootDir: Buffer | undefined): ReturnType<typeof localContentDiffs> {
  const redact = (config.syscheck.diff ?? DEFAULT_DIFF_CONFIG).redact.map((source) => new RegExp(source));
  return localContentDiffs({
    store,
    policy: compileContentPolicy(config.syscheck),
    redact,
    read: async (path, limitBytes, sha256) => readContent(hostPathOf(path, rootDir), limitBytes, sha256),
  });
}

async function rehashDue(store: Store, intervalMs: number | undefined, now: Date): Promise<boolean> {
  if (intervalMs === undefined) return false;
  const last = await store.getMeta(LOCAL_AGENT_ID, LAST_REHASH_KEY);
  if (last === undefined) return false; // the first scan hashes everything anyway
  return now.getTime() - Date.parse(last) >= intervalMs;
}
