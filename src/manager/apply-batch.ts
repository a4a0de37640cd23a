import { createHash } from 'node:crypto';
import type { AlertSink } from '../analysis/alert-sink.js';
import { ingestObservations, type IngestSummary, type PendingBaseline } from '../analysis/ingest-observations.js';
import type { ContentDiffs } from '../analysis/content-diffs.js';
import { buildAgentAlert, buildDirectoryNotScannedAlert } from '../core/agent-alerts.js';
import { newAlertId } from '../core/alert-id.js';
import type { AgentAlert, AgentRef } from '../core/build-alert.js';
import { CHECK_ALL } from '../core/check-set.js';
import type { AutoIgnoreConfig } from '../core/config/custos-config.js';
import type { Diversions } from '../core/diversions.js';
import type { FullLogStyle } from '../core/event-record.js';
import type { InstalledVersions, KnownHashPolicy } from '../core/known-hash-policy.js';
import type { Observation } from '../core/observation.js';
import { isWithin } from '../core/path-bytes.js';
import type { CorrelationState, RuleSet } from '../core/rules/rule-set.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import type { Md5AllowlistLookup } from '../hashdb/md5-allowlist.js';
import { decodeObservation, decodeScanRoot, type BatchRequest } from '../protocol/wire.js';
import type { BatchBookkeeping, Store } from '../storage/store.js';
import { projectedBaselineDigest } from './projected-digest.js';
import { retireUnmonitored } from './retire-unmonitored.js';

/** What applying one agent batch needs. */
export interface ApplyBatchDeps {
  readonly store: Store;
  readonly rules: RuleSet;
  readonly correlation: CorrelationState;
  readonly knownHashes?: KnownHashStore;
  /** OSSEC's md5 allowlist (`<global><md5_whitelist>`), when configured. */
  readonly md5Allowlist?: Md5AllowlistLookup;
  readonly sinks: readonly AlertSink[];
  readonly now: () => Date;
  readonly policy: {
    readonly alertNewFiles: boolean;
    readonly autoIgnore: AutoIgnoreConfig;
    readonly knownHashPolicy: KnownHashPolicy;
    /** The wording of `full_log` (default: OSSEC's). */
    readonly fullLogStyle?: FullLogStyle;
  };
  /** report_changes: the content agents attach is kept and diffed here. */
  readonly contentDiffs?: ContentDiffs;
  /** What the agent's host has installed and diverted, as it reported: package content counts for those versions. */
  readonly packages?: { readonly installedVersions?: InstalledVersions; readonly diversions?: Diversions; readonly usrMerged?: boolean };
}

/** What became of a batch. */
export interface AppliedBatch {
  readonly summary: IngestSummary;
  /** The manager wants the agent to send its whole state again. */
  readonly resync: boolean;
  readonly alerts: number;
  /** The agent alerts the batch raised (committed with it), for the caller's log. */
  readonly agentAlerts: readonly AgentAlert[];
}

/**
 * Applies one agent batch through the same pipeline as standalone mode (callers apply batches one at a time), in
 * one transaction with its sequence number (a replayed or out-of-order batch throws `SequenceError` and changes
 * nothing). Every alert the batch causes commits in that transaction: its file alerts, the outbox-overflow notice
 * (rule 567), unscannable directories (572) and, for a batch that ends a scan, the out-of-sync alert (564) when the
 * agent's state digest differs from what the baseline will be. A batch that ends a full (resync) scan also sweeps,
 * in the same transaction, what the baseline holds that the agent no longer reported; a batch that ends any scan
 * commits the agent's scan state with it (directories scanned, resync paths forgotten, the console's last scan).
 * So a crash right after the commit loses nothing, and a replay of the batch (refused) raises nothing twice; see
 * `replayNeedsResync`.
 */
export async function applyBatch(batch: BatchRequest, agent: AgentRef, deps: ApplyBatchDeps): Promise<AppliedBatch> {
  const observations: Observation[] = batch.observations.map(decodeObservation);
  const roots = batch.end?.roots?.map(decodeScanRoot);
  const full = batch.scan?.full === true;
  // Work before the batch's own transaction is done only for the batch that is next: a replayed or out-of-order
  // one is refused by the commit, and must not have changed anything first.
  const isNext = batch.seq === (await deps.store.lastSequence(agent.id)) + 1;
  if (isNext && full && batch.scan?.first === true) await deps.store.clearResyncSeen(agent.id);
  const options = {
    agent,
    mode: 'check' as const,
    alertNewFiles: deps.policy.alertNewFiles,
    autoIgnore: deps.policy.autoIgnore,
    knownHashPolicy: deps.policy.knownHashPolicy,
    host: agent.name,
    ...(deps.packages?.installedVersions === undefined ? {} : { installedVersions: deps.packages.installedVersions }),
    ...(deps.packages?.diversions === undefined ? {} : { diversions: deps.packages.diversions }),
    ...(deps.packages?.usrMerged === undefined ? {} : { usrMerged: deps.packages.usrMerged }),
    // The first scan of each directory builds its baseline silently, like a standalone first check.
    scannedRoots: await scannedRootsOf(deps.store, agent.id),
    // An agent numbers its scheduled scans' batches (`scan`); what it sends without is what its watcher saw.
    view: {
      mode: batch.scan === undefined && observations.length > 0 ? ('realtime' as const) : ('scheduled' as const),
      fullLogStyle: deps.policy.fullLogStyle ?? 'ossec',
    },
  };
  const ingestDeps = {
    store: deps.store,
    rules: deps.rules,
    correlation: deps.correlation,
    ...(deps.knownHashes === undefined ? {} : { knownHashes: deps.knownHashes }),
    ...(deps.md5Allowlist === undefined ? {} : { md5Allowlist: deps.md5Allowlist }),
    ...(deps.contentDiffs === undefined ? {} : { contentDiffs: deps.contentDiffs }),
    sinks: deps.sinks,
    now: deps.now,
    newAlertId,
  };
  const rootList = (batch.end?.roots ?? []).toSorted().join(',');
  const rootsChanged = isNext && roots !== undefined && batch.scan !== undefined && (await deps.store.getMeta(agent.id, 'scan_roots')) !== rootList;
  // Retiring reads the whole baseline: only when the directories differ from the last scan's. It is idempotent (a
  // crash before the batch commits leaves nothing to retire twice), so it need not share the batch's transaction.
  if (rootsChanged && roots !== undefined) await retireUnmonitored(deps.store, agent, roots, deps.now);
  // What a full scan no longer reported is gone: the same deletions a scheduled scan finds, swept in this batch.
  const gone = isNext && full && batch.end !== undefined ? await sweptByResync(deps.store, agent.id, roots, observations) : [];
  let raised: AgentAlert[] = [];
  let scanned: { digest: string; entries: number } | undefined;
  let resync = false;
  const batchAgentAlerts = async (pending: PendingBaseline): Promise<readonly AgentAlert[]> => {
    raised = [];
    if (!isNext) return raised; // refused by the commit: nothing to decide
    if (batch.notice === 'outbox-overflow')
      raised.push(buildAgentAlert({ id: newAlertId(deps.now()), timestamp: deps.now(), agent, event: 'outbox-overflow', details: { seq: batch.seq } }));
    if (batch.end === undefined) return raised;
    const end = batch.end;
    for (const root of end.unscannable ?? []) {
      raised.push(
        buildDirectoryNotScannedAlert({ id: newAlertId(deps.now()), timestamp: deps.now(), agent, path: Buffer.from(root.p, 'base64'), reason: root.reason }),
      );
    }
    // Rule 574 for each part of a monitored tree the scan could not look into, at every scan that meets it, as
    // standalone does: a subtree stays visible until it can be read again.
    for (const subtree of end.unscannedSubtrees ?? []) {
      raised.push(
        buildDirectoryNotScannedAlert({
          id: newAlertId(deps.now()),
          timestamp: deps.now(),
          agent,
          path: Buffer.from(subtree.p, 'base64'),
          reason: subtree.reason,
          subtree: true,
        }),
      );
    }
    const ours = await projectedBaselineDigest(deps.store, agent.id, pending);
    scanned = ours;
    resync = ours.digest !== end.digest;
    if (resync) {
      const details = { manager_digest: ours.digest, agent_digest: end.digest, manager_entries: ours.entries, agent_entries: end.entries, scan: end.id };
      raised.push(buildAgentAlert({ id: newAlertId(deps.now()), timestamp: deps.now(), agent, event: 'out-of-sync', details }));
    }
    return raised;
  };
  // A batch that ends a scan updates the agent's scan state in its own transaction: a crash right after the
  // commit must not leave a built baseline whose directories still count as unscanned (their next changes would
  // be taken silently as a first scan). A finished resync scan's reported paths go with it too (a next full scan
  // clears them again at its start anyway: that clearing stays before the batch, as the sweep reads after it).
  const finalBookkeeping = (): BatchBookkeeping | undefined => {
    if (batch.end === undefined) return undefined;
    const at = deps.now().toISOString();
    const meta: { key: string; value: string; keep?: boolean }[] = [{ key: 'baseline_built', value: at, keep: true }];
    if (rootsChanged) meta.push({ key: 'scan_roots', value: rootList });
    // What the console shows of an agent's last scan (when, and the baseline's size after it).
    if (scanned !== undefined) meta.push({ key: 'console_last_scan', value: JSON.stringify({ at, entries: scanned.entries }) });
    return { clearResyncSeen: full, ...(rootsChanged && roots !== undefined ? { rootsScanned: { roots, at } } : {}), meta };
  };
  const summary = await ingestObservations(twice(observations, gone), ingestDeps, {
    ...options,
    sequence: batch.seq,
    sequenceSha256: batchSha256(batch),
    resync: full,
    batchAgentAlerts,
    finalBookkeeping,
  });
  return { summary, resync, alerts: summary.alerts, agentAlerts: raised };
}

/**
 * Whether a replayed batch (refused: it was applied before, and only its reply was lost, perhaps to a crash) must
 * still be answered with a resync request: the request itself is not stored, but it follows from the stored state,
 * as it did when the batch was applied; its alert was committed then and is not raised again.
 */
export async function replayNeedsResync(batch: BatchRequest, agentId: string, store: Store): Promise<boolean> {
  if (batch.end === undefined) return false;
  return (await projectedBaselineDigest(store, agentId)).digest !== batch.end.digest;
}

/** The SHA-256 of a batch as validated: the same batch sent twice hashes the same. */
export function batchSha256(batch: BatchRequest): string {
  return createHash('sha256').update(JSON.stringify(batch)).digest('hex');
}

/**
 * Directories whose baseline is built. An agent that reports the directories it scans has them recorded one by one;
 * one that never did (an older agent) counts as scanned everywhere once its first scan ended.
 */
async function scannedRootsOf(store: Store, agentId: string): Promise<readonly Buffer[]> {
  const roots = await store.scannedRoots(agentId);
  if (roots.length > 0 || (await store.getMeta(agentId, 'scan_roots')) !== undefined) return roots;
  return (await store.getMeta(agentId, 'baseline_built')) === undefined ? [] : [Buffer.from('/')];
}

/**
 * Baseline paths a full scan did not report, inside the directories it covered (what lies outside them is retired,
 * not deleted), as deletions; paths this batch reports itself are left to it.
 */
async function sweptByResync(
  store: Store,
  agentId: string,
  roots: readonly Buffer[] | undefined,
  observations: readonly Observation[],
): Promise<Observation[]> {
  const reported = new Set(observations.map((o) => o.path.toString('latin1')));
  const unseen = (await store.unseenByResync(agentId)).filter(
    (path) => (roots === undefined || roots.some((root) => isWithin(path, root))) && !reported.has(path.toString('latin1')),
  );
  return unseen.map((path) => ({ path, checks: CHECK_ALL, inBaseline: true }));
}

async function* twice(observations: readonly Observation[], gone: readonly Observation[]): AsyncGenerator<readonly Observation[]> {
  yield observations;
  if (gone.length > 0) yield gone;
}
