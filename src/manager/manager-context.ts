import type { Logger } from 'pino';
import type { ContentDiffs } from '../analysis/content-diffs.js';
import type { PeriodicLeadership } from '../storage/periodic-leadership.js';
import type { AlertSink } from '../analysis/alert-sink.js';
import { deliverAlerts } from '../analysis/deliver-alerts.js';
import { buildAgentAlert } from '../core/agent-alerts.js';
import { newAlertId } from '../core/alert-id.js';
import type { AgentRef } from '../core/build-alert.js';
import type { CustosConfig } from '../core/config/custos-config.js';
import { newCorrelationState, type CorrelationState, type RuleSet } from '../core/rules/rule-set.js';
import { SerialQueue } from '../core/serial-queue.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import type { Md5AllowlistLookup } from '../hashdb/md5-allowlist.js';
import type { Store } from '../storage/store.js';
import { BatchTurns } from './batch-turns.js';
import type { DebVerifier } from './deb-uploads.js';
import { ManagerMetrics } from './manager-metrics.js';
import type { ManagerPki } from './manager-pki.js';
import { agentPackageContext } from './package-reports.js';

/** Everything the manager process is built from; one set, made by its composition root. */
export interface ManagerDeps {
  readonly dataDir: string;
  readonly config: CustosConfig;
  readonly store: Store;
  readonly pki: ManagerPki;
  readonly rules: RuleSet;
  readonly knownHashes?: KnownHashStore;
  /** Verifies the .debs agents upload against the signed indexes the manager trusts; without it none are asked for. */
  readonly debVerifier?: DebVerifier;
  /** OSSEC's md5 allowlist (`<global><md5_whitelist>`), when configured. */
  readonly md5Allowlist?: Md5AllowlistLookup;
  readonly sinks: readonly AlertSink[];
  readonly logger: Logger;
  readonly now: () => Date;
  /** report_changes: keeps the content agents send and makes the diffs; without it agents are not asked for content. */
  readonly contentDiffs?: ContentDiffs;
  /** Several managers on one store: the periodic work (silence watch, revocation alerts) runs on the leader only. */
  readonly leadership?: PeriodicLeadership;
}

/** The manager's own alerts about an agent (rules 565-571 and the refused package). */
export type AgentAlertEvent =
  'silent' | 'back' | 'outbox-overflow' | 'state-lost' | 'revoked' | 'revoked-attempt' | 'package-refused' | 'quota-reached' | 'history-trimmed';

type PackageContext = Awaited<ReturnType<typeof agentPackageContext>>;

/**
 * What the manager's routes and periodic work share while it runs: its dependencies, metrics, the one queue that
 * applies batches and package reports in turn, the rule correlation state, and the few things every route may do
 * (raise an agent alert, note that an agent lost its state). One per running manager; routes get it, never globals.
 */
export class ManagerContext {
  readonly metrics = new ManagerMetrics();
  /**
   * Batches (and package reports) are applied one at a time, first come first served: SQLite has one writer
   * anyway, and interleaving a thousand agents' batches at every await would make each wait for all the others.
   */
  readonly turns = new SerialQueue();
  /** Agent batches: in `turns`, each agent's in order, sharing COMMITs when the store groups them. */
  readonly batchTurns: BatchTurns;
  readonly correlation: CorrelationState = newCorrelationState();
  /** When each agent's last_seen was last written (ms): see {@link touchEveryMs}. */
  readonly touched = new Map<string, number>();
  /** last_seen is written at most this often per agent (and at once when the agent was marked silent). */
  readonly touchEveryMs: number;
  readonly log: Logger;
  readonly #packageContexts = new Map<string, PackageContext>();

  constructor(readonly deps: ManagerDeps) {
    this.touchEveryMs = Math.min(10_000, deps.config.manager.silentAfterMs / 10);
    this.metrics.footprintFreshForMs = deps.config.manager.silentAfterMs;
    this.batchTurns = new BatchTurns(this.turns, deps.store);
    this.log = deps.logger;
  }

  get store(): Store {
    return this.deps.store;
  }

  /** Builds, stores, counts, logs and delivers one of the manager's alerts about an agent. */
  async raiseAgentAlert(agent: AgentRef, event: AgentAlertEvent, details: Record<string, unknown>): Promise<void> {
    const alert = buildAgentAlert({ id: newAlertId(this.deps.now()), timestamp: this.deps.now(), agent, event, details });
    await this.store.recordAgentAlert(alert);
    this.metrics.alerts++;
    this.log.warn({ agentId: agent.id, event }, alert.full_log);
    await deliverAlerts(this.store, this.deps.sinks, [alert]);
  }

  /**
   * An agent whose numbering is behind what was applied lost or rolled back its state: raise rule 569, once per
   * episode (until the manager applies a batch of it again), and tell it to resynchronise.
   */
  async stateLost(agent: AgentRef, agentSeq: number, managerSeq: number, via: string): Promise<void> {
    this.log.error({ agentId: agent.id, agentSeq, managerSeq, via }, 'agent state lost or rolled back: it resynchronises against the baseline');
    if ((await this.store.getMeta(agent.id, 'state_lost_at_seq')) === String(managerSeq)) return;
    await this.store.setMeta(agent.id, 'state_lost_at_seq', String(managerSeq));
    await this.raiseAgentAlert(agent, 'state-lost', { agent_seq: agentSeq, manager_seq: managerSeq, detected_by: via });
  }

  /** What an agent's host has installed, read once per package report rather than for every batch. */
  async packageContext(agent: AgentRef): Promise<PackageContext | undefined> {
    if (this.deps.knownHashes === undefined) return undefined;
    let context = this.#packageContexts.get(agent.id);
    if (context === undefined) {
      context = await agentPackageContext(agent, this.deps.knownHashes);
      this.#packageContexts.set(agent.id, context);
    }
    return context;
  }

  /** A package report changed what the agent's host has installed: the next batch reads it again. */
  forgetPackageContext(agentId: string): void {
    this.#packageContexts.delete(agentId);
  }
}
