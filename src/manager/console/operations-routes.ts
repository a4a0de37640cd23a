import type { FastifyInstance } from 'fastify';
import { parseDurationMs } from '../../core/config/units.js';
import { parseEnrollmentToken } from '../../protocol/enrollment-token.js';
import { createEnrollmentToken } from '../enrollment-token.js';
import { NO_QUERY } from './api-views.js';
import { auditRequest, identityOf, requireAdmin, type ConsoleContext } from './console-context.js';
import type { ConsoleOperations } from './console-operations.js';

const AGENT = { type: 'string', pattern: '^[0-9]{3,10}$' } as const;
const DURATION = { type: 'string', minLength: 1, maxLength: 16 } as const;
// As `custos maintenance start --for`: a bounded window, at most a week.
const MAX_WINDOW_MS = 7 * 86_400_000;
// An enrollment token is a credential: a year is the longest any sane rollout waits for one.
const MAX_TOKEN_TTL_MS = 365 * 86_400_000;
// The token list shows what was created in the last month: older tokens are long spent or expired.
const TOKEN_LIST_DAYS = 31;

/**
 * `GET /api/tokens`, `POST /api/tokens` (a single-use enrollment token, as `custos manager token`),
 * `POST /api/tokens/:id/revoke`, `GET /api/maintenance`,
 * `POST /api/maintenance` (start a window, as `custos maintenance start`), `POST /api/maintenance/end`.
 */
export function operationsRoutes(context: ConsoleContext, operations: ConsoleOperations | undefined) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: { ttl?: string } }>(
      '/tokens',
      { bodyLimit: 1024, schema: { body: { type: 'object', additionalProperties: false, properties: { ttl: DURATION } } } },
      async (request, reply) => {
        if (!(await requireAdmin(context, request, reply, 'create-token'))) return reply;
        if (operations === undefined) return reply.code(503).send({ error: 'this console runs without the manager: no tokens here' });
        const ttl = request.body.ttl === undefined ? operations.tokenTtlMs : parseDurationMs(request.body.ttl);
        if (ttl === undefined || ttl <= 0 || ttl > MAX_TOKEN_TTL_MS)
          return reply.code(400).send({ error: `ttl "${request.body.ttl ?? ''}" is not a duration from 1s to 365d (e.g. 1h, 7d)` });
        const { token, expiresAt } = await createEnrollmentToken(context.store, operations.caSha256, ttl, context.now());
        // The token is a credential: the audit log keeps its id (the part before the secret), never the secret.
        await auditRequest(context, request, { action: 'create-token', target: tokenId(token), outcome: 'ok', details: { expiresAt } });
        return { token, expiresAt, singleUse: true };
      },
    );

    app.get('/tokens', NO_QUERY, async () => {
      const now = context.now();
      const since = new Date(now.getTime() - TOKEN_LIST_DAYS * 86_400_000).toISOString();
      const tokens = await context.store.listEnrollmentTokens(since);
      const at = now.toISOString();
      return {
        now: at,
        since,
        tokens: tokens.map((t) => ({ ...t, status: t.usedAt !== undefined ? 'used' : t.expiresAt <= at ? 'expired' : 'valid' })),
      };
    });

    app.post<{ Params: { id: string } }>(
      '/tokens/:id/revoke',
      { schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9a-f]{12}$' } }, required: ['id'] } } },
      async (request, reply) => {
        const { id } = request.params;
        if (!(await requireAdmin(context, request, reply, 'revoke-token', id))) return reply;
        const done = await context.store.revokeEnrollmentToken(id, context.now().toISOString());
        await auditRequest(context, request, { action: 'revoke-token', target: id, outcome: done ? 'ok' : 'not-found' });
        return done ? { revoked: id } : reply.code(404).send({ error: `no usable token ${id} (unknown, used or expired)` });
      },
    );

    app.get('/maintenance', NO_QUERY, async () => {
      const now = context.now().toISOString();
      const windows = await context.store.listMaintenance();
      return { now, windows: windows.map((w) => ({ ...w, active: w.endedAt === undefined && w.startsAt <= now && w.endsAt > now })) };
    });

    app.post<{ Body: { duration: string; reason?: string; agent?: string } }>(
      '/maintenance',
      {
        bodyLimit: 4096,
        schema: {
          body: {
            type: 'object',
            required: ['duration'],
            additionalProperties: false,
            properties: { duration: DURATION, reason: { type: 'string', maxLength: 500 }, agent: AGENT },
          },
        },
      },
      async (request, reply) => {
        const { agent, reason } = request.body;
        if (!(await requireAdmin(context, request, reply, 'start-maintenance', agent ?? 'every agent'))) return reply;
        const ms = parseDurationMs(request.body.duration);
        if (ms === undefined || ms <= 0 || ms > MAX_WINDOW_MS)
          return reply.code(400).send({ error: `duration "${request.body.duration}" is not a duration from 1s to 7d (e.g. 30m, 2h)` });
        if (agent !== undefined && (agent === '000' || (await context.store.getAgent(agent)) === undefined))
          return reply.code(404).send({ error: `no agent ${agent}` });
        const now = context.now();
        const window = await context.store.startMaintenance({
          ...(agent === undefined ? {} : { agentId: agent }),
          startsAt: now.toISOString(),
          endsAt: new Date(now.getTime() + ms).toISOString(),
          startedBy: `console:${identityOf(request).user}`,
          ...(reason === undefined || reason.trim() === '' ? {} : { reason: reason.trim() }),
        });
        await auditRequest(context, request, {
          action: 'start-maintenance',
          target: agent ?? 'every agent',
          outcome: 'ok',
          details: { window: window.id, endsAt: window.endsAt },
        });
        return { window };
      },
    );

    app.post<{ Body: { agent?: string } }>(
      '/maintenance/end',
      { bodyLimit: 1024, schema: { body: { type: 'object', additionalProperties: false, properties: { agent: AGENT } } } },
      async (request, reply) => {
        const { agent } = request.body;
        if (!(await requireAdmin(context, request, reply, 'end-maintenance', agent ?? 'every agent'))) return reply;
        const ended = await context.store.endMaintenance(agent, context.now().toISOString());
        await auditRequest(context, request, { action: 'end-maintenance', target: agent ?? 'every agent', outcome: 'ok', details: { ended } });
        return { ended };
      },
    );
  };
}

/** The public id of a printed token (never its secret): what the audit log names it by. */
function tokenId(token: string): string {
  return parseEnrollmentToken(token)?.id ?? 'token';
}
