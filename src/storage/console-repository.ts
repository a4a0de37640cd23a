/** The roles a console account can have: `admin` may change things, `viewer` may only read. */
export const CONSOLE_ROLES = ['admin', 'viewer'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** A console account as stored: the password only as its scrypt hash string (see `hashPassword`). */
export interface ConsoleUser {
  readonly name: string;
  readonly role: ConsoleRole;
  readonly passwordHash: string;
}

/** A signed-in session: found by the SHA-256 of its cookie token (the token itself is never stored). */
export interface ConsoleSession {
  readonly tokenSha256: string;
  readonly userName: string;
  readonly createdAtMs: number;
  readonly lastUsedMs: number;
  readonly expiresAtMs: number;
}

/** Failed sign-ins for one account name since its last success: what the delay and the lockout are computed from. */
export interface LoginFailures {
  readonly failures: number;
  readonly lastFailureMs: number;
  readonly lockedUntilMs: number;
}

/** One entry of the console's audit log: who did what, to what, when, and how it ended. */
export interface AuditEntry {
  readonly id: number;
  readonly ts: string;
  readonly actor: string;
  readonly action: string;
  readonly target?: string;
  /** `ok`, or why it was refused (`denied`, `bad-password`, `locked`, ...). */
  readonly outcome: string;
  readonly remote?: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** An acknowledgement of an alert. */
export interface AlertAck {
  readonly alertId: string;
  readonly ackedBy: string;
  readonly ackedAt: string;
  readonly note?: string;
}

/**
 * The console's own state: accounts, sessions, failed sign-ins, the audit log and alert acknowledgements. Async so
 * a networked engine fits the same interface as SQLite.
 */
export interface ConsoleRepository {
  /** Creates the account, or replaces its role and password when it exists; returns whether it was new. */
  putUser(user: ConsoleUser, at: string): Promise<boolean>;
  getUser(name: string): Promise<ConsoleUser | undefined>;
  listUsers(): Promise<readonly Omit<ConsoleUser, 'passwordHash'>[]>;
  createSession(session: ConsoleSession): Promise<void>;
  getSession(tokenSha256: string): Promise<ConsoleSession | undefined>;
  /** Moves a session's idle clock. */
  touchSession(tokenSha256: string, atMs: number): Promise<void>;
  deleteSession(tokenSha256: string): Promise<void>;
  /** Ends every session of an account (its password or role changed). */
  deleteSessionsOf(userName: string): Promise<number>;
  /** Forgets sessions expired at `nowMs`; returns how many. */
  pruneSessions(nowMs: number): Promise<number>;
  getLoginFailures(userName: string): Promise<LoginFailures | undefined>;
  putLoginFailures(userName: string, failures: LoginFailures): Promise<void>;
  clearLoginFailures(userName: string): Promise<void>;
  /** Appends to the audit log; returns the entry's id. */
  audit(entry: Omit<AuditEntry, 'id'>): Promise<number>;
  /** Audit entries newest first, `limit` of them, older than the entry `beforeId` when given (keyset paging). */
  listAudit(query: { readonly beforeId?: number; readonly limit: number }): Promise<readonly AuditEntry[]>;
  /** Acknowledges alerts that exist and are not acknowledged yet; returns the ids it acknowledged. */
  ackAlerts(ids: readonly string[], by: string, at: string, note?: string): Promise<readonly string[]>;
  getAcks(ids: readonly string[]): Promise<ReadonlyMap<string, AlertAck>>;
  close(): Promise<void>;
}
