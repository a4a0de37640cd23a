import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Store } from '../../storage/store.js';
import { alertRoutes } from './alert-routes.js';
import { auditRoutes } from './audit-routes.js';
import { authRoutes } from './auth-routes.js';
import { ConsoleAuth, DEFAULT_CONSOLE_POLICY, sameSecret, sessionTokenOf, type ConsolePolicy } from './console-auth.js';
import { auditRequest, setIdentity, type ConsoleContext } from './console-context.js';
import { consoleStorageOf, type ConsoleStorage } from './console-storage.js';
import { fileRoutes } from './file-routes.js';
import { fleetRoutes } from './fleet-routes.js';
import type { ConsoleOperations } from './console-operations.js';
import { groupRoutes } from './group-routes.js';
import { knownHashRoutes } from './known-hash-routes.js';
import { operationsRoutes } from './operations-routes.js';
import { LiveAlerts } from './live-alerts.js';
import { OpenApiCollector } from './openapi.js';
import { searchRoutes } from './search-routes.js';
import { DEFAULT_BUNDLE_DIR, staticFiles } from './static-files.js';

export type { ConsoleStorage } from './console-storage.js';
export type { ConsoleOperations } from './console-operations.js';

/** What the console is built from. `storage` defaults to the store's own (see consoleStorageOf). */
export interface ConsoleOptions {
  readonly store: Store;
  readonly silentAfterMs: number;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly policy?: ConsolePolicy;
  readonly storage?: ConsoleStorage;
  readonly bundleDir?: string;
  readonly livePollMs?: number;
  /** The manager's data directory, CA and known-hash database, for the Operations pages (absent: those answer 503/404). */
  readonly operations?: ConsoleOperations;
}

// No inline script or style, nothing from elsewhere, no framing: the bundle is all the console runs.
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000',
};
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD']);
// The API's own version in its OpenAPI document: bumped when a route changes incompatibly.
const API_VERSION = '1';

/**
 * The web console (issue 15): its bundle at `/` and its JSON API under `/api/`. Every API route but sign-in needs
 * a session cookie (an agent's client certificate grants nothing here); every change also needs the session's
 * CSRF token in `x-csrf-token` and a JSON body; admin-only actions are refused to viewers; all of it is audited.
 */
export function consolePlugin(options: ConsoleOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    const logger = options.logger.child({ component: 'console' });
    const storage = options.storage ?? consoleStorageOf(options.store);
    app.addHook('onSend', async (_request, reply, payload) => {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) void reply.header(name, value);
      return payload;
    });
    await app.register(staticFiles(options.bundleDir ?? DEFAULT_BUNDLE_DIR));
    if (storage === undefined) {
      logger.warn('the console API has no storage on this store engine: /api/ answers 503');
      app.all('/api/*', async (_request, reply) => reply.code(503).send({ error: 'the console is not available with this store engine yet' }));
      return;
    }
    const context: ConsoleContext = {
      repository: storage.repository,
      queries: storage.queries,
      store: options.store,
      auth: new ConsoleAuth(storage.repository, options.policy ?? DEFAULT_CONSOLE_POLICY),
      silentAfterMs: options.silentAfterMs,
      logger,
      now: options.now,
    };
    const live = new LiveAlerts(storage.queries, logger, options.livePollMs);
    app.addHook('preClose', async () => live.close());
    app.addHook('onClose', async () => storage.close());
    await app.register(
      async (api) => {
        api.addHook('onRequest', async (request, reply) => guard(context, request, reply));
        const openApi = new OpenApiCollector();
        openApi.attach(api);
        api.get('/openapi.json', async () => openApi.document(API_VERSION));
        await api.register(authRoutes(context));
        await api.register(fleetRoutes(context));
        await api.register(alertRoutes(context, live));
        await api.register(fileRoutes(context));
        await api.register(auditRoutes(context));
        await api.register(searchRoutes(context));
        await api.register(operationsRoutes(context, options.operations));
        await api.register(groupRoutes(context, options.operations));
        await api.register(knownHashRoutes(context, options.operations));
      },
      { prefix: '/api' },
    );
  };
}

/**
 * The API's gate, before any body is read: JSON only for changes, a live session for everything but sign-in, and
 * the session's CSRF token on every change. Returns the reply when it refused.
 */
async function guard(context: ConsoleContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  void reply.header('cache-control', 'no-store');
  const safe = SAFE_METHODS.has(request.method);
  // A cross-site form can send text/plain or form bodies without a preflight; it cannot send JSON.
  if (
    !safe &&
    request.headers['content-length'] !== undefined &&
    request.headers['content-length'] !== '0' &&
    !/^application\/json(;|$)/i.test(request.headers['content-type'] ?? '')
  ) {
    return reply.code(415).send({ error: 'send JSON (content-type: application/json)' });
  }
  if (request.method === 'POST' && request.routeOptions.url === '/api/session') return undefined;
  const token = sessionTokenOf(request.headers.cookie);
  const identity = token === undefined ? undefined : await context.auth.identify(token, context.now().getTime());
  if (identity === undefined) return reply.code(401).send({ error: 'sign in first' });
  setIdentity(request, identity);
  if (!safe && !sameSecret(String(request.headers['x-csrf-token'] ?? ''), identity.csrfToken)) {
    await auditRequest(context, request, { action: `${request.method} ${request.routeOptions.url ?? request.url}`, outcome: 'csrf-refused' });
    return reply.code(403).send({ error: 'missing or wrong x-csrf-token: reload the console' });
  }
  return undefined;
}
