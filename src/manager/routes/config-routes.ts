import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ConfigResponse } from '../../protocol/wire.js';
import { centralConfigFor } from '../central-config.js';
import type { ManagerContext } from '../manager-context.js';
import { agentOf } from './agent-authentication.js';

/**
 * `GET /v1/config` (authenticated): the FIM configuration the manager serves this agent (its own file, its
 * group's, or the default), or 204 when there is none and the agent keeps its local one.
 */
export async function configRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  app.get('/v1/config', { schema: { response: { 200: ConfigResponse, 204: z.undefined() } } }, async (request, reply) => {
    const agent = agentOf(request);
    const central = centralConfigFor(ctx.deps.dataDir, agent.name, (await ctx.store.getAgent(agent.id))?.group);
    return central === undefined ? reply.code(204).send() : { yaml: central.yaml, version: central.version };
  });
}
