import type { FastifyInstance } from 'fastify';
import { KeepaliveRequest, KeepaliveResponse } from '../../protocol/wire.js';
import type { ManagerContext } from '../manager-context.js';
import { agentOf } from './agent-authentication.js';
import { SMALL_BODY_LIMIT } from './enrollment-routes.js';

/**
 * `POST /v1/keepalive` (authenticated): what the manager holds of the agent, what it understands (`continuity`,
 * `inodeAttributes`, `footprint`), and `stateLost` when the agent numbered fewer batches than were applied. The
 * agent's footprint, when sent, is kept for `/metrics`. A body that does
 * not decode is ignored, not refused: a keep-alive is how an agent learns it is still heard.
 */
export async function keepaliveRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  // report_changes: only a manager that keeps content asks agents for it.
  const contentCapability = ctx.deps.contentDiffs === undefined ? {} : { contentDiffs: true };
  app.post('/v1/keepalive', { bodyLimit: SMALL_BODY_LIMIT, schema: { response: { 200: KeepaliveResponse } } }, async (request) => {
    const agent = agentOf(request);
    const ack = await ctx.store.lastSequence(agent.id);
    const body = KeepaliveRequest.safeParse(request.body ?? {});
    if (body.success && body.data.footprint !== undefined) ctx.metrics.recordFootprint(agent, body.data.footprint, ctx.deps.now().getTime());
    const capabilities = { continuity: true, inodeAttributes: true, footprint: true, ...contentCapability };
    if (body.success && body.data.seq !== undefined && body.data.seq < ack) {
      await ctx.stateLost(agent, body.data.seq, ack, 'keepalive');
      return { ok: true, ack, stateLost: true, ...capabilities };
    }
    return { ok: true, ack, ...capabilities };
  });
}
