import { decideNoise, type NoiseState } from '../core/auto-ignore.js';
import { alertParts, buildAlert, DEFAULT_VIEW, type AgentAlert, type AgentRef, type AlertParts, type AlertView, type AnyAlert } from '../core/build-alert.js';
import type { RuleRef } from '../core/builtin-rules.js';
import { carryForwardDigests } from '../core/carry-forward-digests.js';
import type { AutoIgnoreConfig } from '../core/config/custos-config.js';
import { contentDigests } from '../core/content-digests.js';
import { decideBeforeRules, decideFromRule, eventOutcomeOf, type Decision, type MaintenanceRef, type PreRuleDecision } from '../core/decide-outcome.js';
import type { EventRecord } from '../core/event-record.js';
import { applyDiversions, divertedSource, type Diversions } from '../core/diversions.js';
import { diffFileStates, type FileChange } from '../core/file-change.js';
import { isUnstable, type FileState } from '../core/file-state.js';
import { judgeChange, NO_EVIDENCE, type EvidenceSet, type InstalledVersions, type Judgement, type KnownHashPolicy } from '../core/known-hash-policy.js';
import type { Observation } from '../core/observation.js';
import { isWithin } from '../core/path-bytes.js';
import { buildRuleInput, syscheckDecoder } from '../core/rules/rule-input.js';
import type { SyscheckDecoder } from '../core/rules/rule-definition.js';
import type { CorrelationState, RuleSet } from '../core/rules/rule-set.js';
import { sameFileState } from '../core/same-file-state.js';
import type { KnownHashQuery, KnownHashStore } from '../hashdb/known-hash-store.js';
import type { Md5AllowlistLookup } from '../hashdb/md5-allowlist.js';
import { dieAtTestFault } from '../platform/test-fault.js';
import type { BatchBookkeeping, Store } from '../storage/store.js';
import type { AlertSink } from './alert-sink.js';
import type { ContentDiffs } from './content-diffs.js';
import { deliverAlerts } from './deliver-alerts.js';

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
    for (const [i, { change, firstScan, observation }] of changes.entries()) {
      // Before any decision: a first scan's (or a silenced change's) content is the copy the next diff needs.
      const diff = deps.contentDiffs === undefined ? undefined : await deps.contentDiffs.diffFor(options.agent.id, change, observation);
      const judgement = judgeChange(change, evidence[i] ?? NO_EVIDENCE, options.knownHashPolicy, options.host, options.installedVersions);
      const now = deps.now();
      const allowlisted = md5Allowlisted(change, deps.md5Allowlist);
      let outcome: PreRuleDecision = decideBeforeRules(change, {
        ...options,
        firstScan,
        judgement,
        ...(allowlisted === undefined ? {} : { md5Allowlisted: allowlisted }),
        ...(maintenance === undefined ? {} : { maintenance }),
      });
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

/**
 * How many times each rule has fired in this process, per rule set, as Wazuh's analysisd counts `firedtimes`
 * (from its start, in memory). A rule with `<options>no_counter` reports the count without adding to it.
 */
const firedCounts = new WeakMap<RuleSet, Map<number, number>>();

/** The rule's count with this alert (`pending`: this run's uncommitted firings, updated). */
function firedTimesOf(rules: RuleSet, pending: Map<number, number>, ruleId: number, counted: boolean): number {
  const mine = (pending.get(ruleId) ?? 0) + (counted ? 1 : 0);
  pending.set(ruleId, mine);
  return (firedCounts.get(rules)?.get(ruleId) ?? 0) + mine;
}

/** Once committed, a run's firings count for everything after it. */
function countFired(rules: RuleSet, pending: Map<number, number>): void {
  if (pending.size === 0) return;
  let counts = firedCounts.get(rules);
  if (counts === undefined) firedCounts.set(rules, (counts = new Map<number, number>()));
  for (const [id, times] of pending) counts.set(id, (counts.get(id) ?? 0) + times);
  pending.clear();
}

/** Runs the rules for a change, then auto-ignore for a modification that would alert. */
async function applyRules(
  change: FileChange,
  parts: AlertParts,
  judgement: Judgement,
  now: Date,
  deps: IngestDeps,
  options: IngestOptions,
  noise: { path: Buffer; state: NoiseState }[],
  decoder: SyscheckDecoder | undefined,
): Promise<{ outcome: Decision; noCounter: boolean }> {
  const input = buildRuleInput({ parts, verdict: judgement.verdict, agent: options.agent, now: now.getTime(), ...(decoder === undefined ? {} : { decoder }) });
  const { rule } = deps.rules.evaluate(input, deps.correlation);
  const result = rule === undefined ? undefined : { rule: toRuleRef(rule), noLog: rule.noLog };
  let decision;
  if (options.autoIgnore.enabled && change.kind === 'modified' && result !== undefined && result.rule.level > 0) {
    // The pending batch may already hold this file's newer counters (it changed twice in one run is rare, but
    // a realtime agent sends exactly that).
    const pending = noise.findLast((n) => n.path.equals(change.path))?.state;
    decision = decideNoise(pending ?? (await deps.store.getNoise(options.agent.id, change.path)), now.getTime(), options.autoIgnore);
    noise.push({ path: change.path, state: decision.state });
  }
  return { outcome: decideFromRule(result, decision), noCounter: rule?.noCounter === true };
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

type RuleLike = { id: number; level: number; description: string; groups: readonly string[]; mitre?: readonly string[]; email?: 'always' | 'never' };
// A rule's reference is the same for every event it matches: built once per rule, not once per event (ingest).
const ruleRefs = new WeakMap<RuleLike, RuleRef>();

function toRuleRef(rule: RuleLike): RuleRef {
  let ref = ruleRefs.get(rule);
  if (ref === undefined) {
    const base = {
      id: rule.id,
      level: rule.level,
      description: rule.description,
      groups: rule.groups,
      ...(rule.email === undefined ? {} : { email: rule.email }),
    };
    ref = rule.mitre === undefined || rule.mitre.length === 0 ? base : { ...base, mitre: { id: rule.mitre } };
    ruleRefs.set(rule, ref);
  }
  return ref;
}

function toMaintenanceRef(window: { id: number; startedBy: string; endsAt: string } | undefined): MaintenanceRef | undefined {
  return window === undefined ? undefined : { id: window.id, startedBy: window.startedBy, endsAt: window.endsAt };
}

/**
 * Looks up the new digests of a chunk's changes, and the removals behind its deletions, in one call. While a baseline is first built only the bad lists
 * are asked: a known-bad file must alert even then, and they are small; a full lookup of every file would only
 * slow the first scan down.
 */
async function evidenceFor(
  changes: readonly { change: FileChange; firstScan: boolean }[],
  knownHashes: KnownHashStore | undefined,
  diversions: Diversions | undefined,
  usrMerged: boolean,
): Promise<readonly EvidenceSet[]> {
  if (knownHashes === undefined) return [];
  const queries: KnownHashQuery[] = [];
  const asked: { change: number; divertedFrom?: number }[] = [];
  changes.forEach(({ change, firstScan }, i) => {
    if (change.kind === 'deleted') {
      // Only a recorded package removal explains a deletion (rare: one probe each).
      if (!firstScan) {
        queries.push({ path: change.path, hashes: {}, deleted: true });
        asked.push({ change: i });
      }
      return;
    }
    const hashes = contentDigests(change.after);
    if (Object.keys(hashes).length === 0) return;
    queries.push({ path: change.path, hashes, badOnly: firstScan, ...(usrMerged ? {} : { usrMerged }) });
    // A diverted file: other packages' content counts here as shipped at the diversion's source path.
    const from = firstScan || diversions === undefined ? undefined : divertedSource(change.path, diversions);
    if (from !== undefined) queries.push({ path: from, hashes, ...(usrMerged ? {} : { usrMerged }) });
    asked.push({ change: i, ...(from === undefined ? {} : { divertedFrom: queries.length - 1 }) });
  });
  if (queries.length === 0) return [];
  const answers = await knownHashes.lookupMany(queries);
  const out: EvidenceSet[] = [];
  let q = 0;
  for (const { change, divertedFrom } of asked) {
    const own = answers[q] ?? NO_EVIDENCE;
    q += divertedFrom === undefined ? 1 : 2;
    const path = (changes[change] as { change: FileChange }).change.path;
    out[change] = diversions === undefined ? own : applyDiversions(path, own, diversions, divertedFrom === undefined ? undefined : answers[divertedFrom]);
  }
  return out;
}
