import type { FastifyInstance } from 'fastify';
import type { FileHashes } from '../../core/file-state.js';
import type { HashEvidence } from '../../core/known-hash-policy.js';
import { displayPath } from '../../core/path-bytes.js';
import { NO_QUERY, pathFromB64, pathView } from './api-views.js';
import type { ConsoleContext } from './console-context.js';
import type { ConsoleOperations } from './console-operations.js';

const ALGORITHM_BY_LENGTH: Readonly<Record<number, keyof FileHashes>> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

/** One piece of evidence as a person reads it. */
function evidenceView(e: HashEvidence): Record<string, unknown> {
  return {
    algorithm: e.algorithm,
    source: e.source,
    bad: e.bad,
    ...(e.path === undefined ? {} : { knownAt: displayPath(e.path) }),
    ...(e.package === undefined ? {} : { package: e.package }),
    ...(e.label === undefined ? {} : { label: e.label }),
  };
}

/**
 * What the evidence says of this content at this path, strongest first: on a bad list; shipped at this very path;
 * known, but at another path (content moved where it does not belong); or unknown.
 */
function verdictOf(evidence: { bad: readonly HashEvidence[]; atPath: readonly HashEvidence[]; elsewhere: readonly HashEvidence[] }): string {
  if (evidence.bad.length > 0) return 'known-bad';
  if (evidence.atPath.length > 0) return 'known-good';
  if (evidence.elsewhere.length > 0) return 'known-elsewhere';
  return 'unknown';
}

/**
 * `GET /api/known-hashes` (the sources and their counts) and `GET /api/known-hashes/lookup?digest=…&path=…`
 * (what the database knows of one digest, at a path when given). 404 when the manager has no known-hash database.
 */
export function knownHashRoutes(context: ConsoleContext, operations: ConsoleOperations | undefined) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/known-hashes', NO_QUERY, async (_request, reply) => {
      const db = operations?.knownHashes;
      if (db === undefined) return reply.code(404).send({ error: 'this manager has no known-hash database' });
      return db.stats();
    });

    app.get<{ Querystring: { digest: string; pathB64?: string } }>(
      '/known-hashes/lookup',
      {
        schema: {
          querystring: {
            type: 'object',
            required: ['digest'],
            additionalProperties: false,
            properties: {
              digest: { type: 'string', pattern: '^([0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$' },
              pathB64: { type: 'string', maxLength: 6000 },
            },
          },
        },
      },
      async (request, reply) => {
        const db = operations?.knownHashes;
        if (db === undefined) return reply.code(404).send({ error: 'this manager has no known-hash database' });
        const digest = request.query.digest.toLowerCase();
        const algorithm = ALGORITHM_BY_LENGTH[digest.length]!;
        const given = request.query.pathB64 ?? '';
        const path = given === '' ? undefined : pathFromB64(given);
        if (given !== '' && path === undefined) return reply.code(400).send({ error: 'pathB64 must be the base64 of an absolute path' });
        // Without a path every match is "elsewhere": the lookup asks at `/`, where no source knows a file.
        const evidence = await db.lookup(path ?? Buffer.from('/'), { [algorithm]: digest });
        return {
          digest,
          algorithm,
          ...(path === undefined ? {} : pathView(path)),
          verdict: verdictOf(evidence),
          bad: evidence.bad.map(evidenceView),
          atPath: evidence.atPath.map(evidenceView),
          elsewhere: evidence.elsewhere.map(evidenceView),
        };
      },
    );
  };
}
