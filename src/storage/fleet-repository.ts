/** A monitored host known to the store. Standalone mode is agent `000`. */
export interface AgentRecord {
  readonly id: string;
  readonly name: string;
}

/** The fleet's view of one agent. */
export interface AgentInfo extends AgentRecord {
  readonly revokedAt?: string;
  readonly certSha256?: string;
  readonly lastSeen?: string;
  /** Set while the agent is overdue (rule 563 raised), cleared when it returns. */
  readonly silentSince?: string;
  /** The configuration group it belongs to, if any. */
  readonly group?: string;
  /** SHA-256 of the host's machine id, when the agent sent one at enrolment. */
  readonly machineId?: string;
}

/** Why an enrollment token was not accepted. */
export type TokenVerdict = 'ok' | 'unknown' | 'used' | 'expired';

/** A single-use enrollment token as stored: only the SHA-256 of its secret is kept. */
export interface EnrollmentTokenRecord {
  readonly id: string;
  readonly secretSha256: string;
  readonly createdAt: string;
  readonly expiresAt: string;
}

/** An enrollment token as the console lists it: never its secret or the secret's hash. */
export interface EnrollmentTokenInfo {
  readonly id: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt?: string;
  /** The name of the host that enrolled with it. */
  readonly usedBy?: string;
}

/** The fleet registry: agents, enrollment tokens, each agent's applied batch sequence, and resync bookkeeping. */
export interface FleetRepository {
  /** Creates or renames an agent. */
  upsertAgent(agent: AgentRecord): Promise<void>;
  listAgents(): Promise<readonly AgentRecord[]>;
  createEnrollmentToken(token: EnrollmentTokenRecord): Promise<void>;
  /** Uses a token once: its secret's hash must match (compared in constant time), and it must be unused and unexpired. */
  consumeEnrollmentToken(id: string, secretSha256: string, at: string, usedBy: string): Promise<TokenVerdict>;
  /** The tokens created since `since` (ISO time), newest first. */
  listEnrollmentTokens(since: string): Promise<readonly EnrollmentTokenInfo[]>;
  /**
   * Revokes an unused, unexpired token by making it expire at `at` (enrolling with it then answers `expired`);
   * false when there is no such token or it can no longer be used anyway.
   */
  revokeEnrollmentToken(id: string, at: string): Promise<boolean>;
  /** Registers a new agent under the next free id (`001`, `002`, ...), optionally in a configuration group. */
  registerAgent(name: string, at: string, group?: string, machineId?: string): Promise<AgentRecord>;
  /**
   * An existing agent enrolled again (same host, or `--replace`): it keeps its id, baseline and history; its
   * name, machine id and (when given) group are updated, and it counts as heard from now.
   */
  reenrollAgent(id: string, update: { readonly name: string; readonly group?: string; readonly machineId?: string; readonly at: string }): Promise<void>;
  /** Renames an agent; false when there is no such agent. */
  renameAgent(id: string, name: string): Promise<boolean>;
  /** Moves an agent to a configuration group (undefined: none); false when there is no such agent. */
  setAgentGroup(id: string, group: string | undefined): Promise<boolean>;
  setAgentCertificate(id: string, certSha256: string): Promise<void>;
  getAgent(id: string): Promise<AgentInfo | undefined>;
  listAgentInfos(): Promise<readonly AgentInfo[]>;
  /** Refuses the agent from now on; false when there is no such agent. */
  revokeAgent(id: string, at: string): Promise<boolean>;
  /** Records that the agent was heard from; returns when it had been marked silent, if it was. */
  touchAgent(id: string, at: string): Promise<string | undefined>;
  markAgentSilent(id: string, since: string): Promise<void>;
  /** The highest batch sequence applied for the agent (0 before the first). */
  lastSequence(agentId: string): Promise<number>;
  /** The SHA-256 of the last batch applied for the agent, when known. */
  lastBatchSha256(agentId: string): Promise<string | undefined>;
  /** Forgets what a previous full scan reported. */
  clearResyncSeen(agentId: string): Promise<void>;
  /** Baseline paths a full scan did not report (after all its batches). */
  unseenByResync(agentId: string): Promise<readonly Buffer[]>;
}
