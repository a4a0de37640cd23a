import type { FastifyInstance, RouteOptions } from 'fastify';

/** An OpenAPI 3.1 document, as far as the console describes itself. */
export interface OpenApiDocument {
  readonly openapi: string;
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly paths: Record<string, Record<string, unknown>>;
}

type JsonSchema = { readonly properties?: Record<string, unknown>; readonly required?: readonly string[] };

/** `/api/files/:id` → `/api/files/{id}`, OpenAPI's path template. */
function templatePath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(schema: unknown, where: 'query' | 'path'): unknown[] {
  const s = schema as JsonSchema | undefined;
  return Object.entries(s?.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (s?.required ?? []).includes(name),
    schema: property,
  }));
}

/**
 * Collects the API's routes as they are registered (an onRoute hook on the API's scope) and describes them from
 * their own validation schemas, so the document cannot drift from what the server checks. Served at
 * `GET /api/openapi.json`, behind a session like every other route.
 */
export class OpenApiCollector {
  readonly #paths: Record<string, Record<string, unknown>> = {};

  /** Registers the hook; call before the routes are registered on `app`. */
  attach(app: FastifyInstance): void {
    app.addHook('onRoute', (route) => this.#add(route));
  }

  #add(route: RouteOptions): void {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((m) => m !== 'HEAD');
    const schema = (route.schema ?? {}) as { querystring?: unknown; params?: unknown; body?: unknown };
    const path = templatePath(route.url);
    for (const method of methods) {
      const signIn = method === 'POST' && route.url === '/api/session';
      const changes = method !== 'GET';
      this.#paths[path] = {
        ...this.#paths[path],
        [method.toLowerCase()]: {
          parameters: [
            ...parameters(schema.querystring, 'query'),
            ...parameters(schema.params, 'path'),
            ...(changes && !signIn ? [{ name: 'x-csrf-token', in: 'header', required: true, schema: { type: 'string' } }] : []),
          ],
          ...(schema.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: schema.body } } } }),
          responses: {
            200: { description: 'done' },
            400: { description: 'the request does not match the schema, or a value is not what it must be' },
            ...(signIn
              ? { 401: { description: 'wrong name or password' }, 429: { description: 'the account is locked for now' } }
              : { 401: { description: 'no session: sign in first' } }),
            ...(changes && !signIn
              ? { 403: { description: 'missing or wrong x-csrf-token, or the action needs the admin role' }, 415: { description: 'the body is not JSON' } }
              : {}),
          },
          ...(signIn ? { security: [] } : {}),
        },
      };
    }
  }

  /** The document as it stands (every route registered so far). */
  document(version: string): OpenApiDocument {
    return {
      openapi: '3.1.0',
      info: {
        title: 'Custos console API',
        version,
        description: 'The JSON API the web console runs on. Every route but POST /api/session needs the session cookie; every change also needs x-csrf-token.',
      },
      paths: this.#paths,
    };
  }
}
