import type { FastifyInstance } from 'fastify';
import type { ConsoleContext } from './console-context.js';

/** `GET /api/audit`: the audit log, newest first, paged by `before` (the last id of the page before). */
export function auditRoutes(context: ConsoleContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { before?: number; limit: number } }>(
      '/audit',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { before: { type: 'integer', minimum: 1 }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
          },
        },
      },
      async (request) => {
        const { before, limit } = request.query;
        const entries = await context.repository.listAudit({ limit, ...(before === undefined ? {} : { beforeId: before }) });
        const last = entries.at(-1);
        return { entries, ...(entries.length === limit && last !== undefined ? { next: last.id } : {}) };
      },
    );
  };
}
