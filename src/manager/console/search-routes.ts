import type { FastifyInstance } from 'fastify';
import { permissionString } from '../../core/permission-string.js';
import type { ContentGroup, HashHit, HashHitCursor, SearchDigest } from '../../storage/fleet-search-queries.js';
import { pathFromB64, pathView } from './api-views.js';
import type { ConsoleContext } from './console-context.js';

// A digest's kind follows from its length: md5, sha1 or sha256 in hex.
const DIGEST_BY_LENGTH: ReadonlyMap<number, SearchDigest> = new Map([
  [32, 'md5'],
  [40, 'sha1'],
  [64, 'sha256'],
]);

/** Mode and owner as a person reads them. */
function modeView(entry: { type: string; mode: number; uid: number; gid: number; uname?: string; gname?: string }): Record<string, unknown> {
  return {
    type: entry.type,
    mode: entry.mode.toString(8).padStart(4, '0'),
    perm: permissionString(entry.mode),
    uid: entry.uid,
    gid: entry.gid,
    ...(entry.uname === undefined ? {} : { uname: entry.uname }),
    ...(entry.gname === undefined ? {} : { gname: entry.gname }),
  };
}

function hitView(hit: HashHit): Record<string, unknown> {
  return {
    agentId: hit.agentId,
    agentName: hit.agentName,
    ...pathView(hit.path),
    size: hit.size,
    ...modeView(hit),
    ...(hit.sha256 === undefined ? {} : { sha256: hit.sha256 }),
  };
}

function groupView(group: ContentGroup): Record<string, unknown> {
  return {
    ...modeView(group),
    size: group.size,
    ...(group.sha256 === undefined ? {} : { sha256: group.sha256 }),
    hostCount: group.hostCount,
    hosts: group.hosts,
    ...(group.verdict === undefined ? {} : { verdict: group.verdict }),
  };
}

function encodeHitCursor(hit: HashHit): string {
  return Buffer.from(JSON.stringify([hit.agentId, hit.pathKey.toString('base64')])).toString('base64url');
}

function decodeHitCursor(text: string): HashHitCursor | null {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string')
      return { agentId: value[0], pathKey: Buffer.from(value[1], 'base64') };
  } catch {
    // Not JSON: answered as a bad cursor.
  }
  return null;
}

/**
 * Fleet search over the agents' current baselines: `GET /api/search/digest` (which hosts have this content, by
 * md5, sha1 or sha256) and `GET /api/search/path` (which hosts differ at this path: content groups, smallest first).
 */
export function searchRoutes(context: ConsoleContext) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { digest: string; limit: number; after?: string } }>(
      '/search/digest',
      {
        schema: {
          querystring: {
            type: 'object',
            required: ['digest'],
            additionalProperties: false,
            properties: {
              digest: { type: 'string', pattern: '^\\s*([0-9A-Fa-f]{32}|[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})\\s*$' },
              limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
              after: { type: 'string', maxLength: 12000 },
            },
          },
        },
      },
      async (request, reply) => {
        const value = request.query.digest.trim().toLowerCase();
        const digest = DIGEST_BY_LENGTH.get(value.length);
        // The schema's pattern allows only these three lengths.
        if (digest === undefined) return reply.code(400).send({ error: 'digest must be an md5, sha1 or sha256 in hex' });
        const after = request.query.after === undefined ? undefined : decodeHitCursor(request.query.after);
        if (after === null) return reply.code(400).send({ error: 'after must be the next value of a previous page' });
        const hits = await context.queries.hostsWithDigest(digest, value, request.query.limit, after);
        const last = hits.at(-1);
        return {
          digest,
          value,
          hits: hits.map(hitView),
          ...(hits.length === request.query.limit && last !== undefined ? { next: encodeHitCursor(last) } : {}),
        };
      },
    );

    app.get<{ Querystring: { path?: string; pathB64?: string; limit: number; offset: number; hostLimit: number } }>(
      '/search/path',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              path: { type: 'string', pattern: '^/', maxLength: 4096 },
              pathB64: { type: 'string', minLength: 1, maxLength: 6000 },
              limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
              offset: { type: 'integer', minimum: 0, maximum: 100000, default: 0 },
              hostLimit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
            },
          },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const path = q.pathB64 !== undefined ? pathFromB64(q.pathB64) : q.path === undefined ? undefined : Buffer.from(q.path, 'utf8');
        if (path === undefined || path.includes(0)) return reply.code(400).send({ error: 'give path (an absolute path) or pathB64 (the base64 of one)' });
        const found = await context.queries.contentGroupsAt(path, { limit: q.limit, offset: q.offset, hostLimit: q.hostLimit });
        const nextOffset = q.offset + found.groups.length;
        return {
          ...pathView(path),
          hostCount: found.hostCount,
          groupCount: found.groupCount,
          groups: found.groups.map(groupView),
          ...(nextOffset < found.groupCount ? { nextOffset } : {}),
        };
      },
    );
  };
}
