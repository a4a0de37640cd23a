import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ConsoleQueries } from '../../storage/console-queries.js';
import type { AuditEntry, ConsoleRepository } from '../../storage/console-repository.js';
import type { Store } from '../../storage/store.js';
import type { ConsoleAuth, ConsoleIdentity } from './console-auth.js';

/** What every console route is built from. */
export interface ConsoleContext {
  readonly repository: ConsoleRepository;
  readonly queries: ConsoleQueries;
  readonly store: Store;
  readonly auth: ConsoleAuth;
  readonly silentAfterMs: number;
  readonly logger: Logger;
  readonly now: () => Date;
}

/** The signed-in identity of a request that passed the API's session check. */
export function identityOf(request: FastifyRequest): ConsoleIdentity {
  const identity = (request as FastifyRequest & { consoleIdentity?: ConsoleIdentity }).consoleIdentity;
  // The API's onRequest hook refuses every request without one before a handler runs.
  if (identity === undefined) throw new Error('console route reached without a session');
  return identity;
}

/** Attaches the identity the session check found. */
export function setIdentity(request: FastifyRequest, identity: ConsoleIdentity): void {
  (request as FastifyRequest & { consoleIdentity?: ConsoleIdentity }).consoleIdentity = identity;
}

/** Writes one audit entry for a request: the actor, the remote address and the time come from the request. */
export async function auditRequest(
  context: ConsoleContext,
  request: FastifyRequest,
  entry: Pick<AuditEntry, 'action' | 'outcome'> & Partial<Pick<AuditEntry, 'target' | 'details' | 'actor'>>,
): Promise<void> {
  const actor = entry.actor ?? identityOf(request).user;
  await context.repository.audit({ ts: context.now().toISOString(), remote: request.ip, ...entry, actor });
  context.logger.info({ actor, action: entry.action, target: entry.target, outcome: entry.outcome, remote: request.ip }, 'console action');
}

/**
 * Lets an admin through; refuses anyone else with 403, audited as denied. Returns false when refused (the reply
 * is sent).
 */
export async function requireAdmin(context: ConsoleContext, request: FastifyRequest, reply: FastifyReply, action: string, target?: string): Promise<boolean> {
  if (identityOf(request).role === 'admin') return true;
  await auditRequest(context, request, { action, outcome: 'denied', ...(target === undefined ? {} : { target }) });
  await reply.code(403).send({ error: `${action} needs the admin role` });
  return false;
}
