import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DebUploadResponse, PackageReport, PackageReportResponse, PackageStateResponse } from '../../protocol/package-wire.js';
import type { ManagerContext } from '../manager-context.js';
import { applyPackageReport, packageStateOf } from '../package-reports.js';
import { agentOf } from './agent-authentication.js';
import { ErrorReply, replyMalformed } from './malformed-reply.js';

/** A .deb asked of one agent is not asked of another for this long: a fleet taking the same update uploads it once. */
const ASK_AGAIN_MS = 10 * 60_000;
/** .debs one agent may upload in an hour (a patch day of a few hundred packages fits). */
const UPLOADS_PER_HOUR = 500;

const DebParams = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase SHA-256') }).strict();

/**
 * An agent's package state (authenticated): `GET /v1/packages` (what the manager holds of its host),
 * `POST /v1/packages` (what its host installed and removed: host-scoped claims, applied in turn with batches, so a
 * batch applied after a report is judged with it) and `POST /v1/debs/:sha256` (a .deb the manager asked for,
 * verified here against the signed indexes it trusts: one upload serves the whole fleet).
 */
export async function packageRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  const { log, deps } = ctx;
  // What the agent asked said each .deb was: the name a refusal alert gives a package it never parsed.
  const asked = new Map<string, { at: number; claimed: string }>();
  const askOnce = (sha256: string, claimed: string): boolean => {
    const now = Date.now();
    for (const [sha, { at }] of asked) if (now - at > ASK_AGAIN_MS) asked.delete(sha);
    if (asked.has(sha256)) return false;
    asked.set(sha256, { at: now, claimed });
    return true;
  };

  app.get('/v1/packages', { schema: { response: { 200: PackageStateResponse, '4xx': ErrorReply } } }, async (request, reply) => {
    const agent = agentOf(request);
    if (deps.knownHashes === undefined) return reply.code(404).send({ error: 'this manager keeps no known-hash database', code: 'NOT_FOUND' });
    return packageStateOf(agent, deps.knownHashes);
  });

  app.post(
    '/v1/packages',
    { attachValidation: true, schema: { body: PackageReport, response: { 200: PackageReportResponse, '4xx': ErrorReply } } },
    async (request, reply) => {
      const agent = agentOf(request);
      const knownHashes = deps.knownHashes;
      if (knownHashes === undefined) return reply.code(404).send({ error: 'this manager keeps no known-hash database', code: 'NOT_FOUND' });
      if (request.validationError !== undefined) {
        log.warn({ agentId: agent.id, remote: request.ip, reason: request.validationError.message }, 'refused a malformed package report');
        return replyMalformed(reply, 'package report', request.validationError.message);
      }
      const report = request.body as PackageReport;
      return ctx.turns.run(async () => {
        ctx.forgetPackageContext(agent.id);
        return applyPackageReport(report, agent, knownHashes, deps.debVerifier === undefined ? undefined : askOnce, deps.now());
      });
    },
  );

  const uploads = new Map<string, number[]>();
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  app.post(
    '/v1/debs/:sha256',
    {
      attachValidation: true,
      schema: { params: DebParams, response: { 200: DebUploadResponse, 400: DebUploadResponse.or(ErrorReply), 429: DebUploadResponse, '4xx': ErrorReply } },
    },
    async (request, reply) => {
      const agent = agentOf(request);
      const body = request.body as Readable | undefined;
      if (deps.debVerifier === undefined) return reply.code(404).send({ error: 'this manager verifies no packages', code: 'NOT_FOUND' });
      if (request.validationError !== undefined || body === undefined || typeof body.pipe !== 'function') {
        return replyMalformed(reply, 'upload', 'expected POST /v1/debs/<sha256> with an application/octet-stream body');
      }
      const { sha256: claimed } = request.params as z.infer<typeof DebParams>;
      // At most UPLOADS_PER_HOUR per agent: one host cannot keep the manager verifying (or its disk filling).
      const now = Date.now();
      const recent = (uploads.get(agent.id) ?? []).filter((at) => now - at < 3_600_000);
      if (recent.length >= UPLOADS_PER_HOUR) {
        body.resume();
        log.warn({ agentId: agent.id }, 'refused a .deb upload: too many this hour');
        return reply.code(429).send({ verified: false, reason: `at most ${UPLOADS_PER_HOUR} uploads an hour per agent` });
      }
      uploads.set(agent.id, [...recent, now]);
      const outcome = await deps.debVerifier.receive(claimed, body, asked.get(claimed)?.claimed);
      if (outcome.status === 'busy') return reply.code(429).send({ verified: false, reason: outcome.reason });
      if (outcome.status === 'bad-upload') {
        log.warn({ agentId: agent.id, sha256: claimed, reason: outcome.reason }, 'refused a .deb upload');
        // The agent reads this answer as a DebUploadResponse (strict): no extra fields.
        return reply.code(400).send({ verified: false, reason: outcome.reason });
      }
      if (outcome.status === 'refused') {
        log.warn({ agentId: agent.id, sha256: claimed, package: outcome.package, reason: outcome.reason }, 'a package from an agent did not verify');
        await ctx.raiseAgentAlert(agent, 'package-refused', { sha256: claimed, package: outcome.package, reason: outcome.reason });
        return { verified: false, package: outcome.package, reason: outcome.reason };
      }
      log.info({ agentId: agent.id, package: outcome.package }, 'verified a package from an agent');
      return { verified: true, package: outcome.package };
    },
  );
}
