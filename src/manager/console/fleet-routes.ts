import type { FastifyInstance } from 'fastify';
import { pathView } from './api-views.js';
import { auditRequest, requireAdmin, type ConsoleContext } from './console-context.js';

const RANGES = { '24h': { ms: 24 * 3_600_000, bucket: 'hour' }, '14d': { ms: 14 * 86_400_000, bucket: 'day' } } as const;

/** `GET /api/fleet` (agents, alerts over time, most changed paths), `POST /api/agents/:id/revoke`. */
export function fleetRoutes(context: ConsoleContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { range: keyof typeof RANGES } }>(
      '/fleet',
      {
        schema: {
          querystring: { type: 'object', additionalProperties: false, properties: { range: { type: 'string', enum: Object.keys(RANGES), default: '24h' } } },
        },
      },
      async (request) => {
        const now = context.now();
        const range = RANGES[request.query.range];
        const since = new Date(now.getTime() - range.ms).toISOString();
        const [agents, overTime, changed] = await Promise.all([
          context.queries.fleetAgents(now.getTime(), context.silentAfterMs),
          context.queries.alertsOverTime(since, range.bucket),
          context.queries.mostChangedPaths(since, 10),
        ]);
        return {
          now: now.toISOString(),
          since,
          bucket: range.bucket,
          agents,
          alertsOverTime: overTime,
          mostChanged: changed.map((c) => ({ agentId: c.agentId, changes: c.changes, ...pathView(c.path) })),
        };
      },
    );

    app.post<{ Params: { id: string } }>(
      '/agents/:id/revoke',
      { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]{3,10}$' } }, required: ['id'] } } },
      async (request, reply) => {
        const { id } = request.params;
        if (!(await requireAdmin(context, request, reply, 'revoke-agent', id))) return reply;
        // Agent 000 is the manager's own standalone slot, never an enrolled host.
        const done = id !== '000' && (await context.store.revokeAgent(id, context.now().toISOString()));
        await auditRequest(context, request, { action: 'revoke-agent', target: id, outcome: done ? 'ok' : 'not-found' });
        // The manager's revocation watcher raises rule 570 for it within seconds, as for `custos manager revoke`.
        return done ? { revoked: id } : reply.code(404).send({ error: `no agent ${id} to revoke (or it already is)` });
      },
    );
  };
}
