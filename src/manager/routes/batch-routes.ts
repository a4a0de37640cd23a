import type { FastifyInstance } from 'fastify';
import type { AgentRef } from '../../core/build-alert.js';
import { DecodeError } from '../../protocol/decode-error.js';
import { BatchRequest, BatchResponse } from '../../protocol/wire.js';
import { SequenceError } from '../../storage/store.js';
import { enforceQuota } from '../agent-quota.js';
import { applyBatch, batchSha256, replayNeedsResync } from '../apply-batch.js';
import type { ManagerContext } from '../manager-context.js';
import { agentOf } from './agent-authentication.js';
import { ErrorReply, replyMalformed } from './malformed-reply.js';

/**
 * `POST /v1/batches` (authenticated): an agent's numbered batch of observations, applied exactly once and in
 * order, one batch at a time across the fleet (see `BatchTurns`: with group commit, batches that arrive together
 * share one COMMIT, and each is acknowledged only after it). A body the wire decoder refuses, or an observation that does not
 * decode ({@link DecodeError}), is a 400 `MALFORMED_INPUT`; a batch out of turn a 409 saying why; anything else is
 * a bug or a storage failure here: a 500, logged as an error, never blamed on the agent.
 */
export async function batchRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  const { store, metrics, log, deps } = ctx;
  app.post(
    '/v1/batches',
    { attachValidation: true, schema: { body: BatchRequest, response: { 200: BatchResponse, 409: BatchResponse, '4xx': ErrorReply } } },
    async (request, reply) => {
      const agent = agentOf(request);
      if (request.validationError !== undefined) {
        metrics.batchesRejected++;
        log.warn({ agentId: agent.id, remote: request.ip, reason: request.validationError.message }, 'refused a malformed batch');
        return replyMalformed(reply, 'batch', request.validationError.message, { ack: await store.lastSequence(agent.id) });
      }
      const batch = request.body as BatchRequest;
      if (batch.agentId !== agent.id) {
        metrics.batchesRejected++;
        const why = `batch for agent ${batch.agentId} sent with the credentials of agent ${agent.id}`;
        log.warn({ agentId: agent.id, remote: request.ip, reason: why }, 'refused a batch');
        return reply.code(403).send({ error: why, code: 'FORBIDDEN', ack: await store.lastSequence(agent.id) });
      }
      metrics.inFlight++;
      try {
        const applied = await ctx.batchTurns.run(agent.id, () => applyInTurn(ctx, batch, agent));
        if ('overQuota' in applied) {
          // Refused, not dropped: the batch stays in the agent's outbox and is sent again until the quota allows it.
          metrics.batchesRejected++;
          log.warn({ agentId: agent.id, seq: batch.seq, reason: applied.overQuota }, 'refused a batch: the agent reached its storage quota');
          return reply.code(507).send({
            ack: await store.lastSequence(agent.id),
            code: 'QUOTA_REACHED',
            error: `storage quota reached (${applied.overQuota}): the batch is refused; raise manager.quota on the manager`,
          });
        }
        metrics.batches++;
        metrics.events += applied.summary.added + applied.summary.modified + applied.summary.deleted;
        metrics.alerts += applied.alerts;
        for (const alert of applied.agentAlerts) log.warn({ agentId: agent.id, event: alert.custos.agent_event }, alert.full_log);
        if (batch.end !== undefined) metrics.observeScan(batch.end.durationMs / 1000);
        return { ack: batch.seq, ...(applied.resync ? { resync: true } : {}) };
      } catch (error) {
        if (error instanceof SequenceError) {
          metrics.batchesRejected++;
          const applied = error.expected - 1;
          const kind = batch.seq <= applied ? 'replayed' : 'out-of-order';
          log.warn({ agentId: agent.id, seq: batch.seq, expected: error.expected }, `refused a ${kind} batch`);
          if (kind === 'out-of-order') return reply.code(409).send({ ack: applied, error: `${kind} batch ${batch.seq}: the next one is ${error.expected}` });
          // Only the very batch last applied can come again (its acknowledgement was lost): anything else numbered
          // at or below it means the agent's numbering went back, so what it sends was never applied.
          if (batch.seq === applied && (await store.lastBatchSha256(agent.id)) === batchSha256(batch)) {
            // Its reply may have been lost to a crash right after its commit: a resync it asked for is asked again.
            const resync = await ctx.turns.run(() => replayNeedsResync(batch, agent.id, store));
            return reply
              .code(409)
              .send({ ack: applied, duplicate: true, ...(resync ? { resync: true } : {}), error: `batch ${batch.seq} was already applied` });
          }
          await ctx.stateLost(agent, batch.seq, applied, 'batch');
          return reply.code(409).send({
            ack: applied,
            stateLost: true,
            error: `batch ${batch.seq} is behind the ${applied} batches applied: this agent's state was lost or rolled back; resynchronise`,
          });
        }
        if (error instanceof DecodeError) {
          metrics.batchesRejected++;
          log.warn({ agentId: agent.id, seq: batch.seq, reason: error.message }, 'refused a batch with a malformed observation');
          return replyMalformed(reply, 'observation', error.message, { ack: await store.lastSequence(agent.id) });
        }
        // Not the agent's fault: the error handler answers 500 and logs it as an error.
        throw error;
      } finally {
        metrics.inFlight--;
      }
    },
  );

  /**
   * One batch, in the fleet-wide turn: refused when the agent is over its storage quota, else applied (its
   * outbox-overflow notice and other agent alerts commit in the batch's own transaction).
   */
  async function applyInTurn(
    ctx: ManagerContext,
    batch: BatchRequest,
    agent: AgentRef,
  ): Promise<Awaited<ReturnType<typeof applyBatch>> | { overQuota: string }> {
    const started = process.hrtime.bigint();
    try {
      const overQuota = await enforceQuota(store, agent.id, deps.config.manager.quota, (reason) => ctx.raiseAgentAlert(agent, 'quota-reached', { reason }));
      if (overQuota !== undefined) return { overQuota };
      const packages = await ctx.packageContext(agent);
      return await applyBatch(batch, agent, {
        store,
        ...(packages === undefined ? {} : { packages }),
        rules: deps.rules,
        correlation: ctx.correlation,
        ...(deps.knownHashes === undefined ? {} : { knownHashes: deps.knownHashes }),
        ...(deps.md5Allowlist === undefined ? {} : { md5Allowlist: deps.md5Allowlist }),
        ...(deps.contentDiffs === undefined ? {} : { contentDiffs: deps.contentDiffs }),
        sinks: deps.sinks,
        now: deps.now,
        policy: {
          alertNewFiles: deps.config.syscheck.alertNewFiles,
          autoIgnore: deps.config.syscheck.autoIgnore,
          knownHashPolicy: deps.config.knownHashes.policy,
          fullLogStyle: deps.config.alerts.fullLogStyle,
        },
      });
    } finally {
      metrics.observeIngest(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
}
