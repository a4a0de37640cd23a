import type { FastifyInstance } from 'fastify';
import type { AgentRef } from '../../core/build-alert.js';
import { parseEnrollmentToken } from '../../protocol/enrollment-token.js';
import { EnrollRequest, EnrollResponse } from '../../protocol/wire.js';
import { decideEnrollmentIdentity } from '../enrollment-identity.js';
import { sha256 } from '../enrollment-token.js';
import type { ManagerContext } from '../manager-context.js';
import { certSha256, signAgentCsr, verifyAgentCsr } from '../manager-pki.js';
import { ErrorReply, replyMalformed } from './malformed-reply.js';

/** Bodies of the routes that carry no observations (an enrollment: a token, names and a CSR of at most 16 KB). */
export const SMALL_BODY_LIMIT = 64 << 10;

/**
 * `POST /v1/enroll`, the one agent call without a client certificate: a single-use token and a certificate request
 * buy an agent id and a client certificate. The CSR is verified before the token is spent; the token's secret is
 * never logged; a host enrolling again under its machine id (or `--replace`) keeps its identity and baseline.
 */
export async function enrollmentRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  const { store, metrics, log, deps } = ctx;
  app.post(
    '/v1/enroll',
    { bodyLimit: SMALL_BODY_LIMIT, attachValidation: true, schema: { body: EnrollRequest, response: { 200: EnrollResponse, '4xx': ErrorReply } } },
    async (request, reply) => {
      if (request.validationError !== undefined) {
        metrics.enrollmentsRefused++;
        log.warn({ remote: request.ip, reason: request.validationError.message }, 'refused a malformed enrollment request');
        return replyMalformed(reply, 'enrollment request', request.validationError.message);
      }
      const wanted = request.body as EnrollRequest;
      if (!(await verifyAgentCsr(deps.pki, wanted.csr))) {
        metrics.enrollmentsRefused++;
        log.warn({ remote: request.ip, name: wanted.name }, 'refused an enrollment: the certificate request does not verify (its token is not used)');
        return reply.code(400).send({ error: 'the certificate request does not verify', code: 'MALFORMED_INPUT' });
      }
      const token = parseEnrollmentToken(wanted.token);
      const now = deps.now().toISOString();
      const verdict = token === undefined ? 'unknown' : await store.consumeEnrollmentToken(token.id, sha256(token.secret), now, wanted.name);
      if (verdict !== 'ok' || token === undefined) {
        metrics.enrollmentsRefused++;
        // The token id is not secret; the secret is never logged.
        log.warn(
          { remote: request.ip, tokenId: token?.id, name: wanted.name, reason: verdict },
          `refused an enrollment: ${verdict === 'unknown' ? 'bad token' : `${verdict} token`}`,
        );
        return reply.code(403).send({ error: verdict === 'unknown' ? 'invalid enrollment token' : `enrollment token ${verdict}`, code: 'FORBIDDEN' });
      }
      const identity = decideEnrollmentIdentity(await store.listAgentInfos(), {
        name: wanted.name,
        ...(wanted.machineId === undefined ? {} : { machineId: wanted.machineId }),
        ...(wanted.replace === undefined ? {} : { replace: wanted.replace }),
        ...(wanted.allowDuplicateName === undefined ? {} : { allowDuplicateName: wanted.allowDuplicateName }),
      });
      if (identity.kind === 'refuse') {
        metrics.enrollmentsRefused++;
        log.warn({ remote: request.ip, tokenId: token.id, name: wanted.name, reason: identity.why }, 'refused an enrollment: identity');
        return reply.code(409).send({ error: identity.why, code: 'CONFLICT' });
      }
      let agent: AgentRef;
      let nextSeq: number | undefined;
      if (identity.kind === 'inherit') {
        agent = { id: identity.agent.id, name: wanted.name };
        await store.reenrollAgent(agent.id, {
          name: wanted.name,
          at: now,
          ...(wanted.group === undefined ? {} : { group: wanted.group }),
          ...(wanted.machineId === undefined ? {} : { machineId: wanted.machineId }),
        });
        nextSeq = (await store.lastSequence(agent.id)) + 1;
      } else {
        agent = await store.registerAgent(wanted.name, now, wanted.group, wanted.machineId);
      }
      const cert = await signAgentCsr(deps.pki, wanted.csr, agent.id);
      // The new certificate replaces any earlier one: an old installation of an inherited agent is refused from now on.
      await store.setAgentCertificate(agent.id, certSha256(cert));
      metrics.enrollments++;
      if (identity.kind === 'inherit') {
        log.warn(
          { agentId: agent.id, name: agent.name, was: identity.agent.name, why: identity.why, nextSeq, remote: request.ip },
          'enrolled a host again: it keeps its identity and baseline, and its first scan is compared with it',
        );
      } else {
        log.info({ agentId: agent.id, name: agent.name, group: wanted.group, remote: request.ip }, 'enrolled an agent');
      }
      return { agentId: agent.id, name: agent.name, cert, ca: deps.pki.caCert, ...(nextSeq === undefined ? {} : { nextSeq, inherited: true }) };
    },
  );
}
