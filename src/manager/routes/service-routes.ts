import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ManagerContext } from '../manager-context.js';

/** `GET /healthz`: up, and how many agents are enrolled. */
export const HealthResponse = z.object({ status: z.literal('ok'), agents: z.number().int().min(0) }).strict();

/**
 * The routes anyone may call, without a client certificate: `/healthz`, `/metrics` (Prometheus text) and
 * `/v1/ca` (the CA certificate, PEM; enrollment checks it against the token's CA fingerprint).
 */
export async function serviceRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  app.get('/healthz', { schema: { response: { 200: HealthResponse } } }, async () => ({
    status: 'ok' as const,
    // 000 is the manager's own entry (standalone history), not an agent.
    agents: (await ctx.store.listAgentInfos()).filter((a) => a.id !== '000').length,
  }));
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(ctx.metrics.render(ctx.deps.now().getTime())));
  app.get('/v1/ca', async (_request, reply) => reply.type('application/x-pem-file').send(ctx.deps.pki.caCert));
}
