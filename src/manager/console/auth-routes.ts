import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { sessionCookie } from './console-auth.js';
import { auditRequest, identityOf, type ConsoleContext } from './console-context.js';

const NAME = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** `POST /api/session` (sign in), `GET /api/session` (who am I, and the CSRF token), `DELETE /api/session` (sign out). */
export function authRoutes(context: ConsoleContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post<{ Body: { name: string; password: string } }>(
      '/session',
      {
        bodyLimit: 4096,
        schema: {
          body: {
            type: 'object',
            required: ['name', 'password'],
            additionalProperties: false,
            properties: { name: NAME, password: { type: 'string', maxLength: 1024 } },
          },
        },
      },
      async (request, reply) => {
        const { name, password } = request.body;
        const nowMs = context.now().getTime();
        const outcome = await context.auth.signIn(name, password, nowMs);
        if (outcome.kind === 'locked') {
          await auditRequest(context, request, { actor: name, action: 'sign-in', outcome: 'locked' });
          const minutes = Math.max(1, Math.ceil((outcome.untilMs - nowMs) / 60_000));
          return reply
            .code(429)
            .header('retry-after', String(Math.ceil((outcome.untilMs - nowMs) / 1000)))
            .send({ error: `too many failed sign-ins: this account is locked for ${minutes} more minute(s)` });
        }
        if (outcome.kind === 'bad-credentials') {
          await auditRequest(context, request, { actor: name, action: 'sign-in', outcome: 'bad-credentials' });
          // Each failure in a row answers later: guessing gets slower even before the lock.
          await sleep(outcome.delayMs);
          return reply.code(401).send({ error: 'wrong name or password' });
        }
        const { token, identity } = outcome;
        await auditRequest(context, request, { actor: identity.user, action: 'sign-in', outcome: 'ok' });
        void reply.header('set-cookie', sessionCookie(token, (identity.expiresAtMs - nowMs) / 1000));
        return { user: identity.user, role: identity.role, csrfToken: identity.csrfToken, expiresAt: new Date(identity.expiresAtMs).toISOString() };
      },
    );

    app.get('/session', async (request) => {
      const identity = identityOf(request);
      return { user: identity.user, role: identity.role, csrfToken: identity.csrfToken, expiresAt: new Date(identity.expiresAtMs).toISOString() };
    });

    app.delete('/session', async (request, reply) => {
      await context.auth.signOut(identityOf(request));
      await auditRequest(context, request, { action: 'sign-out', outcome: 'ok' });
      return reply.header('set-cookie', sessionCookie(undefined, 0)).send({ ok: true });
    });
  };
}
