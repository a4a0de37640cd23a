import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AgentRef } from '../../core/build-alert.js';
import type { ManagerContext } from '../manager-context.js';
import { RevokedAttempts } from '../revocation-alerts.js';
import type { PeerOf } from './tls-peer.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The enrolled agent behind the request's client certificate; set on every route under {@link authenticateAgents}. */
    agent: AgentRef | null;
  }
}

/** The agent an authenticated route serves; only on routes registered under {@link authenticateAgents}. */
export function agentOf(request: FastifyRequest): AgentRef {
  if (request.agent === null) throw new Error(`route ${request.url} is not under agent authentication`);
  return request.agent;
}

/**
 * Authenticates every route registered in `scope` (and its child plugins) as an enrolled agent, in two steps:
 * - onRequest, before the body is read: no valid client certificate is a 401 and the connection is closed, so an
 *   unauthenticated peer cannot make the manager buffer and parse 32 MB bodies (60 of them took it to 1.9 GB);
 * - preValidation, once the body is parsed: the certificate's subject must be a known agent, not revoked, and its
 *   fingerprint the one issued. A revoked agent that keeps trying is news (rule 571, rate-limited), with what its
 *   refused body says it still holds. A refused body is never validated, so a refusal is always a 401, not a 400.
 * It also writes the agent's last_seen (at most every `touchEveryMs`) and raises "agent back" after a silence.
 */
export function authenticateAgents(scope: FastifyInstance, ctx: ManagerContext, peerOf: PeerOf): void {
  const { metrics, log, store } = ctx;
  const revokedAttempts = new RevokedAttempts();
  scope.decorateRequest('agent', null);
  scope.addHook('onRequest', async (request, reply) => {
    if (peerOf(request) !== undefined) return;
    metrics.batchesRejected++;
    log.warn({ remote: request.ip, url: request.url, reason: 'no valid client certificate', body: 'not read' }, 'refused an agent request');
    // The connection goes too: what is left of the body is never read.
    await reply.code(401).header('connection', 'close').send({ error: 'no valid client certificate', code: 'UNAUTHENTICATED' });
    return reply;
  });
  scope.addHook('preValidation', async (request, reply) => {
    const peer = peerOf(request);
    const id = peer?.id;
    const agent = id === undefined ? undefined : await store.getAgent(id);
    let why: string | undefined;
    if (peer === undefined) why = 'no valid client certificate';
    else if (agent === undefined) why = `unknown agent ${id ?? '?'}`;
    else if (agent.revokedAt !== undefined) why = `agent ${agent.id} was revoked at ${agent.revokedAt}`;
    else if (agent.certSha256 !== peer.sha256) why = `agent ${agent.id} presented a certificate it was not issued`;
    if (why !== undefined || agent === undefined) {
      metrics.batchesRejected++;
      log.warn({ remote: request.ip, url: request.url, reason: why }, 'refused an agent request');
      if (agent?.revokedAt !== undefined && agent.certSha256 === peer?.sha256) {
        const attempt = revokedAttempts.record(agent, request.body, ctx.deps.now());
        if (attempt !== undefined) await ctx.raiseAgentAlert({ id: agent.id, name: agent.name }, 'revoked-attempt', attempt);
      }
      await reply.code(401).send({ error: why, code: 'UNAUTHENTICATED' });
      return reply;
    }
    request.agent = { id: agent.id, name: agent.name };
    const nowMs = ctx.deps.now().getTime();
    if (nowMs - (ctx.touched.get(agent.id) ?? 0) >= ctx.touchEveryMs) {
      ctx.touched.set(agent.id, nowMs);
      const silentSince = await store.touchAgent(agent.id, ctx.deps.now().toISOString());
      if (silentSince !== undefined) await ctx.raiseAgentAlert(request.agent, 'back', { silent_since: silentSince });
    }
    return undefined;
  });
}
