import type { NoiseState } from '../core/auto-ignore.js';
import { alertParts, buildAlert, DEFAULT_VIEW, type AlertParts, type AnyAlert } from '../core/build-alert.js';
import { carryForwardDigests } from '../core/carry-forward-digests.js';
import { decideBeforeRules, eventOutcomeOf, type MaintenanceRef, type PreRuleDecision } from '../core/decide-outcome.js';
import type { EventRecord } from '../core/event-record.js';
import { diffFileStates, type FileChange } from '../core/file-change.js';
import { isUnstable, type FileState } from '../core/file-state.js';
import { judgeChange, NO_EVIDENCE } from '../core/known-hash-policy.js';
import type { Observation } from '../core/observation.js';
import { isWithin } from '../core/path-bytes.js';
import { syscheckDecoder } from '../core/rules/rule-input.js';
import type { SyscheckDecoder } from '../core/rules/rule-definition.js';
import { sameFileState } from '../core/same-file-state.js';
import type { Md5AllowlistLookup } from '../hashdb/md5-allowlist.js';
import { dieAtTestFault } from '../platform/test-fault.js';
import { deliverAlerts } from './deliver-alerts.js';
import { applyRules, countFired, firedTimesOf } from './ingest-rules.js';
import type { IngestDeps, IngestOptions, IngestSummary } from './ingest-types.js';
import { evidenceFor } from './known-hash-evidence.js';

export type { IngestDeps, IngestOptions, IngestSummary, PendingBaseline } from './ingest-types.js';

const COMMIT_ROWS = 5000;
const COMMIT_EVENTS = 1000;

/**
 * The analysis pipeline shared by standalone mode and the manager: for each observation, compare with the
 * baseline, judge the new content against the known hashes, decide (record, alert, or only refresh the baseline)
 * with the policy and the rules, then commit baseline, history and alerts together in batches, and hand the
 * committed alerts to the sinks.
 */
export async function ingestObservations(
  observations: AsyncIterable<readonly Observation[]>,
  deps: IngestDeps,
  options: IngestOptions,
): Promise<IngestSummary> {
  const summary: IngestSummary = { baselined: 0, added: 0, modified: 0, deleted: 0, alerts: 0, recorded: 0, accepted: 0, baselineWrites: 0 };
  let upserts: FileState[] = [];
  let deletes: Buffer[] = [];
  let events: EventRecord[] = [];
  let deliver: AnyAlert[] = [];
  let noise: { path: Buffer; state: NoiseState }[] = [];
  const seen: Buffer[] = [];
  const view = options.view ?? DEFAULT_VIEW;
  const repeats = deps.rules.repeatDecoders;
  // Rule firings of what is not committed yet: a batch that is refused (out of order) never counts.
  const fired = new Map<number, number>();
  const atomic = options.sequence !== undefined;
  const commit = async (final: boolean): Promise<void> => {
    if (atomic && !final) return;
    const agentAlerts = atomic && options.batchAgentAlerts !== undefined ? await options.batchAgentAlerts({ upserts, deletes }) : [];
    const bookkeeping = final ? options.finalBookkeeping?.() : undefined;
    if (!atomic && upserts.length + deletes.length + events.length === 0 && bookkeeping === undefined) return;
    await deps.store.commit({
      agentId: options.agent.id,
      upserts,
      deletes,
      events,
      noise,
      ...(options.sequence === undefined ? {} : { sequence: options.sequence }),
      ...(options.sequenceSha256 === undefined ? {} : { sequenceSha256: options.sequenceSha256 }),
      ...(options.resync === true ? { resyncSeen: seen } : {}),
      ...(agentAlerts.length === 0 ? {} : { agentAlerts }),
      ...(bookkeeping === undefined ? {} : { bookkeeping }),
    });
    if (atomic) dieAtTestFault('exit-after-batch-commit');
    summary.baselineWrites += upserts.length + deletes.length;
    countFired(deps.rules, fired);
    summary.alerts += agentAlerts.length;
    const delivered = [...deliver, ...agentAlerts];
    upserts = [];
    deletes = [];
    events = [];
    deliver = [];
    noise = [];
    await deliverAlerts(deps.store, deps.sinks, delivered);
  };

  for await (const chunk of observations) {
    const maintenance = toMaintenanceRef(await deps.store.activeMaintenance(options.agent.id, deps.now().toISOString()));
    // One query for the chunk's baseline states, not one per file.
    const known = await deps.store.getBaselineStates(
      options.agent.id,
      chunk.filter((o) => o.inBaseline).map((o) => o.path),
    );
    const changes: { change: FileChange; firstScan: boolean; observation: Observation }[] = [];
    for (const observation of chunk) {
      if (options.resync === true && observation.current !== undefined) seen.push(observation.path);
      const previous = observation.inBaseline ? known.get(observation.path.toString('latin1')) : undefined;
      const current = observation.current === undefined ? undefined : carryForwardDigests(previous, observation.current);
      if (current === undefined) {
        if (previous !== undefined) deletes.push(previous.path);
      } else if (previous === undefined || !sameFileState(previous, current)) {
        upserts.push(current);
      }
      const change = diffFileStates(previous, current, observation.checks) ?? unstableChange(previous, current);
      if (change !== undefined) changes.push({ change, firstScan: !options.scannedRoots.some((root) => isWithin(change.path, root)), observation });
    }
    // One question to the known-hash database for the chunk's changes, not one per file.
    const evidence = await evidenceFor(changes, deps.knownHashes, options.diversions, options.usrMerged !== false);
    for (let i = 0; i < changes.length; i++) {
      const { change, firstScan, observation } = changes[i] as (typeof changes)[number];
      // Before any decision: a first scan's (or a silenced change's) content is the copy the next diff needs.
      const diff = deps.contentDiffs === undefined ? undefined : await deps.contentDiffs.diffFor(options.agent.id, change, observation);
      const judgement = judgeChange(change, evidence[i] ?? NO_EVIDENCE, options.knownHashPolicy, options.host, options.installedVersions);
      const allowlisted = md5Allowlisted(change, deps.md5Allowlist);
      // The few options the decision reads, in a literal: spreading all the options per event cost more than deciding.
      let outcome: PreRuleDecision = decideBeforeRules(change, {
        mode: options.mode,
        actor: options.actor,
        alertNewFiles: options.alertNewFiles,
        firstScan,
        judgement,
        md5Allowlisted: allowlisted,
        maintenance,
      });
      // Most of a first scan: taken into the baseline, nothing to time, rule or record.
      if (outcome.kind === 'baseline') {
        summary.baselined++;
        continue;
      }
      const now = deps.now();
      let parts: AlertParts | undefined;
      let decoder: SyscheckDecoder | undefined;
      let counted = true;
      if (outcome.kind === 'rules') {
        parts = alertParts(change, view, diff);
        // OSSEC's 551/552: a file's earlier changes are counted only when a rule asks for its 2nd or 3rd change.
        if (repeats.size > 0 && change.kind === 'modified') {
          const prior = (await deps.store.countChanges(options.agent.id, change.path, 3)) + events.filter((e) => e.change.path.equals(change.path)).length;
          const chosen = syscheckDecoder(change.kind, prior, repeats);
          if (chosen !== 'syscheck_integrity_changed') decoder = chosen;
        }
        const applied = await applyRules(change, parts, judgement, now, deps, options, noise, decoder);
        outcome = applied.outcome;
        counted = !applied.noCounter;
      }
      if (outcome.kind === 'baseline') {
        summary.baselined++;
        continue;
      }
      summary[change.kind]++;
      let alertId: string | undefined;
      let firedTimes: number | undefined;
      if (outcome.kind === 'alert') {
        alertId = deps.newAlertId(now);
        firedTimes = firedTimesOf(deps.rules, fired, outcome.rule.id, counted);
        const alert = buildAlert({
          id: alertId,
          timestamp: now,
          agent: options.agent,
          rule: outcome.rule,
          change,
          verdict: judgement.verdict,
          view,
          firedTimes,
          ...(decoder === undefined ? {} : { decoder }),
          ...(outcome.rolledUp === undefined ? {} : { rolledUp: outcome.rolledUp }),
          ...(parts === undefined ? {} : { parts }),
          ...(diff === undefined ? {} : { diff }),
        });
        if (outcome.noLog !== true) deliver.push(alert);
        summary.alerts++;
      } else if (outcome.kind === 'accept') summary.accepted++;
      else summary.recorded++;
      events.push({
        agentId: options.agent.id,
        timestamp: now.toISOString(),
        change,
        verdict: judgement.verdict,
        ...(outcome.kind === 'accept' || outcome.rule === undefined ? {} : { rule: outcome.rule }),
        outcome: eventOutcomeOf(outcome),
        ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
        ...(alertId === undefined ? {} : { alertId }),
        ...(outcome.kind === 'alert' && outcome.rolledUp !== undefined ? { rolledUp: outcome.rolledUp } : {}),
        ...(view.mode === 'scheduled' ? {} : { mode: view.mode }),
        ...(decoder === undefined ? {} : { decoder }),
        ...(view.fullLogStyle === 'ossec' ? {} : { fullLogStyle: view.fullLogStyle }),
        ...(firedTimes === undefined ? {} : { firedTimes }),
        ...(diff === undefined ? {} : { diff }),
      });
    }
    if (upserts.length + deletes.length >= COMMIT_ROWS || events.length >= COMMIT_EVENTS) await commit(false);
  }
  await commit(true);
  return summary;
}

/** The allowlist entry for a change's new MD5, if OSSEC's md5 allowlist has it. */
function md5Allowlisted(change: FileChange, allowlist: Md5AllowlistLookup | undefined): { source: string; md5: string } | undefined {
  if (allowlist === undefined || change.kind === 'deleted') return undefined;
  const md5 = change.after.hashes.md5;
  return md5 !== undefined && allowlist.has(md5) ? { source: allowlist.source, md5 } : undefined;
}

/**
 * A file that kept changing while it was read is an event even when its last read matches the baseline: someone
 * keeps touching it, and a scan that cannot read it cleanly must say so rather than pass it.
 */
function unstableChange(previous: FileState | undefined, current: FileState | undefined): FileChange | undefined {
  if (previous === undefined || current === undefined || !isUnstable(current)) return undefined;
  return { kind: 'modified', path: current.path, before: previous, after: current, changedAttributes: [] };
}

function toMaintenanceRef(window: { id: number; startedBy: string; endsAt: string } | undefined): MaintenanceRef | undefined {
  return window === undefined ? undefined : { id: window.id, startedBy: window.startedBy, endsAt: window.endsAt };
}
