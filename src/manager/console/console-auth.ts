import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleRepository, ConsoleRole } from '../../storage/console-repository.js';
import { DUMMY_PASSWORD_HASH, verifyPassword } from './password-hash.js';

/** How sessions and failed sign-ins are handled. */
export interface ConsolePolicy {
  /** A session ends after this long without a request. */
  readonly sessionIdleMs: number;
  /** A session ends this long after sign-in, used or not. */
  readonly sessionMaxMs: number;
  /** Consecutive failures that lock an account. */
  readonly lockAfter: number;
  readonly lockMs: number;
  /** Each failure makes the answer wait this much longer (times the failures so far, at most 8 of them). */
  readonly failureDelayMs: number;
}

/** The defaults: 30 minutes idle, 12 hours at most, locked for 15 minutes after 5 failures in a row. */
export const DEFAULT_CONSOLE_POLICY: ConsolePolicy = Object.freeze({
  sessionIdleMs: 30 * 60_000,
  sessionMaxMs: 12 * 3_600_000,
  lockAfter: 5,
  lockMs: 15 * 60_000,
  failureDelayMs: 250,
});

/** The session cookie: `__Host-` makes browsers insist on Secure, Path=/ and no Domain. */
export const SESSION_COOKIE = '__Host-custos_session';

/** Who is signed in behind a request. */
export interface ConsoleIdentity {
  readonly user: string;
  readonly role: ConsoleRole;
  readonly tokenSha256: string;
  /** The value the `x-csrf-token` header must carry on every change. */
  readonly csrfToken: string;
  readonly expiresAtMs: number;
}

/** How a sign-in ended. */
export type SignInOutcome =
  | { readonly kind: 'ok'; readonly token: string; readonly identity: ConsoleIdentity }
  | { readonly kind: 'bad-credentials'; readonly delayMs: number }
  | { readonly kind: 'locked'; readonly untilMs: number };

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * The CSRF token of a session: an HMAC of its cookie token. It is never stored, only recomputed: a page of another
 * site can neither read the HttpOnly cookie nor this value, so it cannot forge the header.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('custos-console-csrf').digest('base64url');
}

/** Compares two strings in constant time (for their length). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Sign-in, session lookup and sign-out over the console repository. */
export class ConsoleAuth {
  readonly #repo: ConsoleRepository;
  readonly #policy: ConsolePolicy;

  constructor(repo: ConsoleRepository, policy: ConsolePolicy) {
    this.#repo = repo;
    this.#policy = policy;
  }

  /**
   * Checks a name and password. An unknown name costs the same scrypt work as a known one; a locked account is
   * refused even with the right password; failures of known accounts are counted towards the lock.
   */
  async signIn(name: string, password: string, nowMs: number): Promise<SignInOutcome> {
    const user = await this.#repo.getUser(name);
    const failures = user === undefined ? undefined : await this.#repo.getLoginFailures(name);
    if (failures !== undefined && failures.lockedUntilMs > nowMs) return { kind: 'locked', untilMs: failures.lockedUntilMs };
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!ok || user === undefined) {
      const count = (failures?.failures ?? 0) + 1;
      if (user !== undefined) {
        const lockedUntilMs = count >= this.#policy.lockAfter ? nowMs + this.#policy.lockMs : 0;
        // A lock starts a new count: after it, the next failures lock again only after as many more.
        await this.#repo.putLoginFailures(name, { failures: lockedUntilMs > 0 ? 0 : count, lastFailureMs: nowMs, lockedUntilMs });
        if (lockedUntilMs > 0) return { kind: 'locked', untilMs: lockedUntilMs };
      }
      return { kind: 'bad-credentials', delayMs: this.#policy.failureDelayMs * Math.min(count, 8) };
    }
    if (failures !== undefined) await this.#repo.clearLoginFailures(name);
    const token = randomBytes(32).toString('base64url');
    const expiresAtMs = nowMs + this.#policy.sessionMaxMs;
    const tokenSha256 = sha256(token);
    await this.#repo.pruneSessions(nowMs);
    await this.#repo.createSession({ tokenSha256, userName: user.name, createdAtMs: nowMs, lastUsedMs: nowMs, expiresAtMs });
    return { kind: 'ok', token, identity: { user: user.name, role: user.role, tokenSha256, csrfToken: csrfTokenFor(token), expiresAtMs } };
  }

  /** The identity behind a session token, when the session exists, has not expired and its account still does. */
  async identify(token: string, nowMs: number): Promise<ConsoleIdentity | undefined> {
    const tokenSha256 = sha256(token);
    const session = await this.#repo.getSession(tokenSha256);
    if (session === undefined) return undefined;
    if (session.expiresAtMs <= nowMs || nowMs - session.lastUsedMs > this.#policy.sessionIdleMs) {
      await this.#repo.deleteSession(tokenSha256);
      return undefined;
    }
    const user = await this.#repo.getUser(session.userName);
    if (user === undefined) return undefined;
    // The idle clock moves at most once a minute per session: reads need not all write.
    if (nowMs - session.lastUsedMs > 60_000) await this.#repo.touchSession(tokenSha256, nowMs);
    return { user: user.name, role: user.role, tokenSha256, csrfToken: csrfTokenFor(token), expiresAtMs: session.expiresAtMs };
  }

  async signOut(identity: ConsoleIdentity): Promise<void> {
    await this.#repo.deleteSession(identity.tokenSha256);
  }
}

/** The session token in a Cookie header, if there is one. */
export function sessionTokenOf(cookieHeader: string | undefined): string | undefined {
  if (cookieHeader === undefined) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** The Set-Cookie value for a new session, or (no token) one that clears it. */
export function sessionCookie(token: string | undefined, maxAgeS: number): string {
  return `${SESSION_COOKIE}=${token ?? ''}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${token === undefined ? 0 : Math.max(0, Math.floor(maxAgeS))}`;
}
