import type { AutoIgnoreConfig } from '../core/config/custos-config.js';
import type { AgentAlert, AgentRef, AlertView } from '../core/build-alert.js';
import type { Diversions } from '../core/diversions.js';
import type { FileState } from '../core/file-state.js';
import type { InstalledVersions, KnownHashPolicy } from '../core/known-hash-policy.js';
import type { CorrelationState, RuleSet } from '../core/rules/rule-set.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import type { Md5AllowlistLookup } from '../hashdb/md5-allowlist.js';
import type { BatchBookkeeping, Store } from '../storage/store.js';
import type { AlertSink } from './alert-sink.js';
import type { ContentDiffs } from './content-diffs.js';

/** The components ingest works with; one set per process, built by its composition root. */
export interface IngestDeps {
  readonly store: Store;
  /** The known-hash database; without it every change's content is `unknown`. */
  readonly knownHashes?: KnownHashStore;
  readonly rules: RuleSet;
  /** Recent rule matches, for frequency rules; kept across calls by the caller. */
  readonly correlation: CorrelationState;
  readonly sinks: readonly AlertSink[];
  readonly now: () => Date;
  readonly newAlertId: (now: Date) => string;
  /** OSSEC's md5 allowlist, when configured: an allowlisted new MD5 is recorded, not alerted. */
  readonly md5Allowlist?: Md5AllowlistLookup;
  /** Content diffs for report_changes files; absent when no directory reports changes. */
  readonly contentDiffs?: ContentDiffs;
}

/** How one run of ingest treats what it sees. */
export interface IngestOptions {
  readonly agent: AgentRef;
  readonly mode: 'check' | 'accept';
  readonly actor?: string;
  readonly alertNewFiles: boolean;
  readonly autoIgnore: AutoIgnoreConfig;
  /** Directories whose baseline is already built; changes elsewhere are the first scan's. */
  readonly scannedRoots: readonly Buffer[];
  readonly knownHashPolicy: KnownHashPolicy;
  /** The host the files are on, for known hashes scoped to one host (its own package database). */
  readonly host: string;
  /** The package versions installed on that host: a package's content counts only for the version installed. */
  readonly installedVersions?: InstalledVersions;
  /** The host's dpkg diversions: a diverted file is judged where dpkg put it. */
  readonly diversions?: Diversions;
  /** False when the host's root is not usr-merged: `/bin/x` is then not explained by `/usr/bin/x`'s package content. */
  readonly usrMerged?: boolean;
  /**
   * An agent batch's sequence number: everything (baseline, history, alerts, the sequence itself) is committed
   * in one transaction, so the batch applies exactly once or not at all.
   */
  readonly sequence?: number;
  /** The SHA-256 of that batch, kept with its sequence number (see `ChangeBatch.sequenceSha256`). */
  readonly sequenceSha256?: string;
  /** The batch belongs to a full (resync) scan: remember every path it reports. */
  readonly resync?: boolean;
  /** How the changes were seen (a realtime batch, or a scan) and whose `full_log` wording to use; default: scheduled, OSSEC's. */
  readonly view?: AlertView;
  /**
   * With `sequence`: the agent alerts the batch raises, decided from what it is about to write (its baseline
   * upserts and deletes, not yet committed); they commit in the batch's transaction and are delivered with it.
   */
  readonly batchAgentAlerts?: (pending: PendingBaseline) => Promise<readonly AgentAlert[]>;
  /** Bookkeeping that commits in the run's last transaction (asked after `batchAgentAlerts`), so it holds exactly when the run's changes do. */
  readonly finalBookkeeping?: () => BatchBookkeeping | undefined;
}

/** The baseline rows a batch is about to write: upserted states, and deleted paths (a delete wins over an upsert). */
export interface PendingBaseline {
  readonly upserts: readonly FileState[];
  readonly deletes: readonly Buffer[];
}

/** What one run of ingest did. */
export interface IngestSummary {
  /** Entries taken into a baseline being built for the first time (not events). */
  baselined: number;
  added: number;
  modified: number;
  deleted: number;
  alerts: number;
  /** Changes kept in the history without an alert. */
  recorded: number;
  accepted: number;
  /** Baseline rows written or removed. */
  baselineWrites: number;
}
