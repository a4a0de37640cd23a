import { createHash, randomBytes } from 'node:crypto';
import { formatEnrollmentToken } from '../protocol/enrollment-token.js';
import type { Store } from '../storage/store.js';

/**
 * Creates a single-use enrollment token valid for `ttlMs`. The printed token carries the CA's fingerprint, so the
 * agent can check it talks to the right manager before it sends anything; the manager keeps only a hash of the
 * secret.
 */
export async function createEnrollmentToken(store: Store, caSha256: string, ttlMs: number, now: Date): Promise<{ token: string; expiresAt: string }> {
  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
  await store.createEnrollmentToken({ id, secretSha256: sha256(secret), createdAt: now.toISOString(), expiresAt });
  return { token: formatEnrollmentToken({ id, secret, caSha256 }), expiresAt };
}

/** SHA-256 hex of a token secret: what is stored and (in constant time) compared. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
