import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ManagerContext } from './manager-context.js';
import { authenticateAgents } from './routes/agent-authentication.js';
import { batchRoutes } from './routes/batch-routes.js';
import { configRoutes } from './routes/config-routes.js';
import { enrollmentRoutes } from './routes/enrollment-routes.js';
import { keepaliveRoutes } from './routes/keepalive-routes.js';
import { packageRoutes } from './routes/package-routes.js';
import { serviceRoutes } from './routes/service-routes.js';
import { tlsPeerOf, type PeerOf } from './routes/tls-peer.js';
import { useZodSchemas } from './routes/zod-schema-compilers.js';

/** How the app is served: over TLS with the manager's PKI (production), or bare for `inject` in tests. */
export interface ManagerAppOptions {
  /** Serve HTTPS with the context's PKI: TLS 1.3 only, client certificates asked for and checked per route. */
  readonly tls: boolean;
  /** Who the peer is; {@link tlsPeerOf} unless a test says otherwise. */
  readonly peerOf?: PeerOf;
}

/**
 * The manager's HTTP API as a Fastify app, not yet listening: the public routes, enrollment, and the agent routes
 * under one authentication hook. Every JSON body and reply is checked against the wire's schemas; a status is
 * mapped here once: 4xx for what the client did (logged as a warning), 500 for anything else (logged as an error,
 * its message never sent).
 */
export async function createManagerApp(ctx: ManagerContext, options: ManagerAppOptions): Promise<FastifyInstance> {
  const { pki } = ctx.deps;
  const app = Fastify({
    // pino's Logger is Fastify's logger; typed as the base one so every route plugin takes the default instance type.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- without it tsc infers pino's Logger as the instance's logger type
    loggerInstance: ctx.log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 32 << 20,
    ...(options.tls
      ? { https: { key: pki.serverKey, cert: pki.serverCert, ca: [pki.caCert], requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' as const } }
      : {}),
  });
  app.server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    ctx.metrics.tlsHandshakeFailures++;
    ctx.log.warn({ remote: socket.remoteAddress, reason: error.message }, 'refused a connection that failed the TLS handshake');
  });
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) ctx.log.error({ err: error, url: request.url }, 'request failed');
    else ctx.log.warn({ url: request.url, remote: request.ip, reason: error.message }, 'refused a request');
    const code = status === 500 ? 'INTERNAL' : error.validation !== undefined || status === 400 ? 'MALFORMED_INPUT' : 'REFUSED';
    void reply.code(status).send({ error: status === 500 ? 'internal error' : error.message, code });
  });
  // The wire's routes, checked with the wire's zod schemas (encapsulated: the console registers JSON Schema routes
  // beside them, which Fastify's own compilers check).
  await app.register(async (wire) => {
    useZodSchemas(wire);
    await wire.register(serviceRoutes, ctx);
    await wire.register(enrollmentRoutes, ctx);
    // Everything an enrolled agent calls, behind one authentication hook (encapsulated: it covers only these).
    await wire.register(async (agentScope) => {
      authenticateAgents(agentScope, ctx, options.peerOf ?? tlsPeerOf);
      await agentScope.register(batchRoutes, ctx);
      await agentScope.register(keepaliveRoutes, ctx);
      await agentScope.register(configRoutes, ctx);
      await agentScope.register(packageRoutes, ctx);
    });
  });
  return app;
}
