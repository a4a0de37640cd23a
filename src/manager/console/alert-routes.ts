import type { FastifyInstance } from 'fastify';
import { ALERT_STATUSES, type AlertCursor, type AlertFilter, type AlertStatus } from '../../storage/console-queries.js';
import { alertView, pathFromB64 } from './api-views.js';
import { sessionTokenOf } from './console-auth.js';
import { auditRequest, identityOf, requireAdmin, type ConsoleContext } from './console-context.js';
import type { LiveAlerts } from './live-alerts.js';

interface AlertQuery {
  agent?: string;
  minLevel?: number;
  rule?: number;
  path?: string;
  pathB64?: string;
  since?: string;
  until?: string;
  status: AlertStatus;
  limit: number;
  after?: string;
}

const ID = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } as const;
const TIME = { type: 'string', maxLength: 40 } as const;

/** `GET /api/alerts` (filtered, newest first, keyset-paged), `GET /api/alerts/stream` (live), `POST /api/alerts/ack`. */
export function alertRoutes(context: ConsoleContext, live: LiveAlerts) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: AlertQuery }>(
      '/alerts',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              agent: ID,
              minLevel: { type: 'integer', minimum: 0, maximum: 16 },
              rule: { type: 'integer', minimum: 0, maximum: 999999 },
              path: { type: 'string', pattern: '^/', maxLength: 4096 },
              pathB64: { type: 'string', maxLength: 6000 },
              since: TIME,
              until: TIME,
              status: { type: 'string', enum: [...ALERT_STATUSES], default: 'all' },
              limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
              after: { type: 'string', maxLength: 300 },
            },
          },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const pathPrefix = q.pathB64 !== undefined ? pathFromB64(q.pathB64) : q.path === undefined ? undefined : Buffer.from(q.path, 'utf8');
        if (q.pathB64 !== undefined && pathPrefix === undefined) return reply.code(400).send({ error: 'pathB64 must be the base64 of an absolute path' });
        const since = q.since === undefined ? undefined : isoTime(q.since);
        const until = q.until === undefined ? undefined : isoTime(q.until);
        if (since === null || until === null) return reply.code(400).send({ error: 'since and until must be ISO 8601 times, e.g. 2026-11-30T00:00:00Z' });
        const after = q.after === undefined ? undefined : decodeCursor(q.after);
        if (after === null) return reply.code(400).send({ error: 'after must be the next value of a previous page' });
        const filter: AlertFilter = {
          status: q.status,
          limit: q.limit,
          ...(q.agent === undefined ? {} : { agentId: q.agent }),
          ...(q.minLevel === undefined ? {} : { minLevel: q.minLevel }),
          ...(q.rule === undefined ? {} : { ruleId: q.rule }),
          ...(pathPrefix === undefined ? {} : { pathPrefix }),
          ...(since === undefined ? {} : { since }),
          ...(until === undefined ? {} : { until }),
          ...(after === undefined ? {} : { after }),
        };
        const alerts = await context.queries.listAlerts(filter);
        const last = alerts.at(-1);
        return {
          alerts: alerts.map(alertView),
          ...(alerts.length === q.limit && last !== undefined ? { next: encodeCursor({ ts: last.ts, id: last.id }) } : {}),
        };
      },
    );

    app.get('/alerts/stream', async (request, reply) => {
      // The session check already passed; the stream re-checks it at each heartbeat and ends when it ends.
      const token = sessionTokenOf(request.headers.cookie);
      reply.hijack();
      await live.add(reply.raw, async () => token !== undefined && (await context.auth.identify(token, context.now().getTime())) !== undefined);
    });

    app.post<{ Body: { ids: string[]; note?: string } }>(
      '/alerts/ack',
      {
        bodyLimit: 64 << 10,
        schema: {
          body: {
            type: 'object',
            required: ['ids'],
            additionalProperties: false,
            properties: { ids: { type: 'array', minItems: 1, maxItems: 500, items: ID }, note: { type: 'string', maxLength: 500 } },
          },
        },
      },
      async (request, reply) => {
        const { ids, note } = request.body;
        if (!(await requireAdmin(context, request, reply, 'acknowledge', ids.join(',')))) return reply;
        const acked = await context.repository.ackAlerts(ids, identityOf(request).user, context.now().toISOString(), note);
        await auditRequest(context, request, {
          action: 'acknowledge',
          target: ids.join(','),
          outcome: 'ok',
          details: { acknowledged: acked.length, ...(note === undefined ? {} : { note }) },
        });
        return { acknowledged: acked };
      },
    );
  };
}

function isoTime(text: string): string | undefined | null {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

function encodeCursor(cursor: AlertCursor): string {
  return Buffer.from(JSON.stringify([cursor.ts, cursor.id])).toString('base64url');
}

function decodeCursor(text: string): AlertCursor | null {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') return { ts: value[0], id: value[1] };
  } catch {
    // Not JSON: answered below as a bad cursor.
  }
  return null;
}
