import { createHash } from 'node:crypto';
import type { AlertSink } from '../analysis/alert-sink.js';
import { deliverAlerts } from '../analysis/deliver-alerts.js';
import { ingestObservations, type IngestSummary } from '../analysis/ingest-observations.js';
import type { ContentDiffs } from '../analysis/content-diffs.js';
import { buildAgentAlert, buildDirectoryNotScannedAlert } from '../core/agent-alerts.js';
import { newAlertId } from '../core/alert-id.js';
import type { AgentRef } from '../core/build-alert.js';
import { CHECK_ALL } from '../core/check-set.js';
import type { AutoIgnoreConfig } from '../core/config/custos-config.js';
import type { Diversions } from '../core/diversions.js';
import type { InstalledVersions, KnownHashPolicy } from '../core/known-hash-policy.js';
import type { Observation } from '../core/observation.js';
import { isWithin } from '../core/path-bytes.js';
import type { CorrelationState, RuleSet } from '../core/rules/rule-set.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import type { Md5AllowlistLookup } from '../hashdb/md5-allowlist.js';
import { decodeObservation, type BatchRequest } from '../protocol/wire.js';
import type { Store } from '../storage/store.js';
import { baselineDigest } from './baseline-digest.js';
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
  readonly policy: { readonly alertNewFiles: boolean; readonly autoIgnore: AutoIgnoreConfig; readonly knownHashPolicy: KnownHashPolicy };
  /** report_changes: the content agents attach is kept and diffed here. */
  readonly contentDiffs?: ContentDiffs;
  /** What the agent's host has installed and diverted, as it reported: package content counts for those versions. */
  readonly packages?: { readonly installedVersions?: InstalledVersions; readonly diversions?: Diversions };
}

/** What became of a batch. */
export interface AppliedBatch {
  readonly summary: IngestSummary;
  /** The manager wants the agent to send its whole state again. */
  readonly resync: boolean;
  readonly alerts: number;
}

/**
 * Applies one agent batch through the same pipeline as standalone mode (callers apply batches one at a time), in one transaction with its sequence
 * number (a replayed or out-of-order batch throws `SequenceError` and changes nothing). A batch that ends a full
 * (resync) scan also sweeps what the baseline holds that the agent no longer reported; a batch that ends any scan
 * compares the agent's state digest with the baseline's and, when they differ, raises rule 564 and asks for a
 * full resync.
 */
export async function applyBatch(batch: BatchRequest, agent: AgentRef, deps: ApplyBatchDeps): Promise<AppliedBatch> {
  const observations: Observation[] = batch.observations.map(decodeObservation);
  const roots = batch.end?.roots?.map(decodeRoot);
  const full = batch.scan?.full === true;
  if (full && batch.scan?.first === true) await deps.store.clearResyncSeen(agent.id);
  const options = {
    agent,
    mode: 'check' as const,
    alertNewFiles: deps.policy.alertNewFiles,
    autoIgnore: deps.policy.autoIgnore,
    knownHashPolicy: deps.policy.knownHashPolicy,
    host: agent.name,
    ...(deps.packages?.installedVersions === undefined ? {} : { installedVersions: deps.packages.installedVersions }),
    ...(deps.packages?.diversions === undefined ? {} : { diversions: deps.packages.diversions }),
    // The first scan of each directory builds its baseline silently, like a standalone first check.
    scannedRoots: await scannedRootsOf(deps.store, agent.id),
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
  const summary = await ingestObservations(once(observations), ingestDeps, { ...options, sequence: batch.seq, sequenceSha256: batchSha256(batch), resync: full });
  let alerts = summary.alerts;
  let resync = false;
  if (batch.end !== undefined) {
    const end = batch.end;
    if (full) {
      // What the agent no longer has is gone: the same deletions a scheduled scan finds, found by the manager.
      // Only inside the directories the scan covered: what lies outside them is retired below, not deleted.
      const unseen = (await deps.store.unseenByResync(agent.id)).filter((path) => roots === undefined || roots.some((root) => isWithin(path, root)));
      if (unseen.length > 0) {
        const gone = unseen.map((path) => ({ path, checks: CHECK_ALL, inBaseline: true }));
        alerts += (await ingestObservations(once(gone), ingestDeps, options)).alerts;
      }
      await deps.store.clearResyncSeen(agent.id);
    }
    if (roots !== undefined && batch.scan !== undefined) {
      // Retiring reads the whole baseline: only when the directories differ from the last scan's.
      const rootList = (batch.end.roots ?? []).toSorted().join(',');
      if ((await deps.store.getMeta(agent.id, 'scan_roots')) !== rootList) {
        await retireUnmonitored(deps.store, agent, roots, deps.now);
        await deps.store.markRootsScanned(agent.id, roots, deps.now().toISOString());
        await deps.store.setMeta(agent.id, 'scan_roots', rootList);
      }
    }
    if ((await deps.store.getMeta(agent.id, 'baseline_built')) === undefined) await deps.store.setMeta(agent.id, 'baseline_built', deps.now().toISOString());
    alerts += await alertUnscannable(end.unscannable ?? [], agent, deps);
    const ours = await baselineDigest(deps.store, agent.id);
    if (ours.digest !== end.digest) {
      resync = true;
      alerts++;
      const alert = buildAgentAlert({
        id: newAlertId(deps.now()),
        timestamp: deps.now(),
        agent,
        event: 'out-of-sync',
        details: { manager_digest: ours.digest, agent_digest: end.digest, manager_entries: ours.entries, agent_entries: end.entries, scan: end.id },
      });
      await deps.store.recordAgentAlert(alert);
      await deliverAlerts(deps.store, deps.sinks, [alert]);
    }
  }
  return { summary, resync, alerts };
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

function decodeRoot(base64: string): Buffer {
  const path = Buffer.from(base64, 'base64');
  if (path.length === 0 || path[0] !== 0x2f || path.includes(0)) throw new TypeError('scan root must be an absolute path');
  return path;
}

async function* once(observations: readonly Observation[]): AsyncGenerator<readonly Observation[]> {
  yield observations;
}

/** Rule 572 for each monitored directory the agent's scan found nothing to scan in; returns how many. */
async function alertUnscannable(roots: readonly { p: string; reason: string }[], agent: AgentRef, deps: ApplyBatchDeps): Promise<number> {
  const alerts = [];
  for (const root of roots) {
    const alert = buildDirectoryNotScannedAlert({ id: newAlertId(deps.now()), timestamp: deps.now(), agent, path: Buffer.from(root.p, 'base64'), reason: root.reason });
    await deps.store.recordAgentAlert(alert);
    alerts.push(alert);
  }
  await deliverAlerts(deps.store, deps.sinks, alerts);
  return alerts.length;
}
