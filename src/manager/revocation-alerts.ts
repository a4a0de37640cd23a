import type { AgentRef } from '../core/build-alert.js';
import type { AgentInfo, Store } from '../storage/store.js';

/** A revoked agent's attempts raise rule 571 at most this often (the count in between is carried on the next). */
const ATTEMPT_ALERT_EVERY_MS = 10 * 60_000;

/**
 * Raises rule 570 once for each revoked agent: `manager revoke` only writes the store, and the running manager
 * (or the next one started) announces it, saying what becomes of what the agent had not delivered.
 */
export async function announceRevocations(store: Store, raise: (agent: AgentRef, details: Record<string, unknown>) => Promise<void>): Promise<void> {
  for (const agent of await store.listAgentInfos()) {
    if (agent.revokedAt === undefined || agent.id === '000') continue;
    if ((await store.getMeta(agent.id, 'revocation_announced')) !== undefined) continue;
    // Marked first: a failing sink must not make the alert repeat every few seconds (it stays queued for delivery).
    await store.setMeta(agent.id, 'revocation_announced', agent.revokedAt);
    await raise(
      { id: agent.id, name: agent.name },
      { revoked_at: agent.revokedAt, last_applied_seq: await store.lastSequence(agent.id), last_seen: agent.lastSeen ?? 'never' },
    );
  }
}

/**
 * Counts a revoked agent's attempts to report and says when one should be alerted (the first, then at most every
 * 10 minutes), with what the agent still holds: the batch it tried (number and size), or how many its keep-alive says wait.
 */
export class RevokedAttempts {
  readonly #seen = new Map<string, { first: string; attempts: number; lastAlertMs: number }>();

  /** Records an attempt; returns the alert's details when one is due. */
  record(agent: AgentInfo, body: unknown, now: Date): Record<string, unknown> | undefined {
    let seen = this.#seen.get(agent.id);
    if (seen === undefined) {
      seen = { first: now.toISOString(), attempts: 0, lastAlertMs: Number.NEGATIVE_INFINITY };
      this.#seen.set(agent.id, seen);
    }
    seen.attempts++;
    if (now.getTime() - seen.lastAlertMs < ATTEMPT_ALERT_EVERY_MS) return undefined;
    seen.lastAlertMs = now.getTime();
    // Read defensively: the body of a refused request was never validated.
    const sent = body as { seq?: unknown; observations?: unknown; pending?: unknown } | undefined;
    const pending =
      typeof sent?.seq === 'number' && Array.isArray(sent.observations)
        ? { pending_seq: sent.seq, pending_changes: sent.observations.length }
        : typeof sent?.pending === 'number' && sent.pending > 0
          ? { pending_batches: sent.pending }
          : {};
    return { revoked_at: agent.revokedAt, attempts: seen.attempts, first_attempt: seen.first, ...pending };
  }
}
