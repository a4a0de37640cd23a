import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AlertSink } from '../analysis/alert-sink.js';
import { deliverAlerts, redeliverAlerts } from '../analysis/deliver-alerts.js';
import { buildAgentAlert } from '../core/agent-alerts.js';
import { newAlertId } from '../core/alert-id.js';
import type { AgentRef } from '../core/build-alert.js';
import type { CustosConfig } from '../core/config/custos-config.js';
import { newCorrelationState, type RuleSet } from '../core/rules/rule-set.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import type { Md5AllowlistLookup } from '../hashdb/md5-allowlist.js';
import { parseEnrollmentToken } from '../protocol/enrollment-token.js';
import type { Readable } from 'node:stream';
import { PackageReport } from '../protocol/package-wire.js';
import { BatchRequest, EnrollRequest, KeepaliveRequest } from '../protocol/wire.js';
import type { DebVerifier } from './deb-uploads.js';
import { agentPackageContext, applyPackageReport, packageStateOf } from './package-reports.js';
import { SequenceError, type Store } from '../storage/store.js';
import { applyBatch, batchSha256 } from './apply-batch.js';
import type { ContentDiffs } from '../analysis/content-diffs.js';
import { announceRevocations, RevokedAttempts } from './revocation-alerts.js';
import { decideEnrollmentIdentity } from './enrollment-identity.js';
import { centralConfigFor } from './central-config.js';
import { sha256 } from './enrollment-token.js';
import { ManagerMetrics } from './manager-metrics.js';
import { certSha256, signAgentCsr, verifyAgentCsr, type ManagerPki } from './manager-pki.js';

const ASK_AGAIN_MS = 10 * 60_000;
/** .debs one agent may upload in an hour (a patch day of a few hundred packages fits). */
const UPLOADS_PER_HOUR = 500;

/** Everything the manager process is built from; one set, made by its composition root. */
export interface ManagerDeps {
  readonly dataDir: string;
  readonly config: CustosConfig;
  readonly store: Store;
  readonly pki: ManagerPki;
  readonly rules: RuleSet;
  readonly knownHashes?: KnownHashStore;
  /** Verifies the .debs agents upload against the signed indexes the manager trusts; without it none are asked for. */
  readonly debVerifier?: DebVerifier;
  /** OSSEC's md5 allowlist (`<global><md5_whitelist>`), when configured. */
  readonly md5Allowlist?: Md5AllowlistLookup;
  readonly sinks: readonly AlertSink[];
  readonly logger: Logger;
  readonly now: () => Date;
  /** report_changes: keeps the content agents send and makes the diffs; without it agents are not asked for content. */
  readonly contentDiffs?: ContentDiffs;
}

/** A running manager. */
export interface RunningManager {
  readonly url: string;
  readonly port: number;
  readonly metrics: ManagerMetrics;
  close(): Promise<void>;
}

/**
 * The manager's HTTPS API (ARCHITECTURE §3.3, §4): TLS 1.3 only (no renegotiation, so a connection's client
 * certificate is read once), with the manager's own CA; agents authenticate with the client certificate they got
 * at enrollment (its subject is their id, its fingerprint must be the one issued, and
 * a revoked agent is refused); enrollment is the only call without one, and needs a single-use token. Every body
 * is validated before anything reads it; anything refused is logged with why, and nothing a client sends can
 * crash the process.
 */
export async function startManager(deps: ManagerDeps, listen: { host: string; port: number }): Promise<RunningManager> {
  const { store, logger } = deps;
  const metrics = new ManagerMetrics();
  // Alerts a killed manager had committed but not yet written out go first, before any new ones.
  const redelivered = await redeliverAlerts(store, deps.sinks);
  if (redelivered > 0) logger.warn({ alerts: redelivered }, 'delivered alerts that an interrupted run had stored but not yet written out');
  const correlation = newCorrelationState();
  // Batches are applied one at a time, first come first served: SQLite has one writer anyway, and interleaving
  // a thousand agents' batches at every await would make each wait for all the others.
  let queue: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  // last_seen is written at most this often per agent (and at once when the agent was marked silent).
  const touchEveryMs = Math.min(10_000, deps.config.manager.silentAfterMs / 10);
  const touched = new Map<string, number>();
  const contentCapability = deps.contentDiffs === undefined ? {} : { contentDiffs: true };
  const app = Fastify({
    loggerInstance: logger.child({ component: 'http' }),
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 32 << 20,
    https: { key: deps.pki.serverKey, cert: deps.pki.serverCert, ca: [deps.pki.caCert], requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3' },
  });
  app.server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
    metrics.tlsHandshakeFailures++;
    logger.warn({ remote: socket.remoteAddress, reason: error.message }, 'refused a connection that failed the TLS handshake');
  });
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) logger.error({ err: error, url: request.url }, 'request failed');
    else logger.warn({ url: request.url, remote: request.ip, reason: error.message }, 'refused a request');
    void reply.code(status).send({ error: status === 500 ? 'internal error' : error.message });
  });

  // A request to an agent route without a valid client certificate is refused before its body is read: an
  // unauthenticated peer must not make the manager buffer and parse 32 MB bodies (60 of them took it to 1.9 GB).
  app.addHook('onRequest', async (request, reply) => {
    if (!AGENT_ROUTES.has(request.routeOptions.url ?? '') || peerOf(request.raw.socket as TLSSocket) !== undefined) return;
    metrics.batchesRejected++;
    logger.warn({ remote: request.ip, url: request.url, reason: 'no valid client certificate', body: 'not read' }, 'refused an agent request');
    // The connection goes too: what is left of the body is never read.
    await reply.code(401).header('connection', 'close').send({ error: 'no valid client certificate' });
    return reply;
  });

  /** The agent behind a request's client certificate, or a reply already sent saying why not. */
  const authenticate = async (request: FastifyRequest, reply: FastifyReply): Promise<AgentRef | undefined> => {
    const peer = peerOf(request.raw.socket as TLSSocket);
    const id = peer?.id;
    const agent = id === undefined ? undefined : await store.getAgent(id);
    const presented = peer?.sha256;
    let why: string | undefined;
    if (peer === undefined) why = 'no valid client certificate';
    else if (agent === undefined) why = `unknown agent ${id ?? '?'}`;
    else if (agent.revokedAt !== undefined) why = `agent ${agent.id} was revoked at ${agent.revokedAt}`;
    else if (agent.certSha256 !== presented) why = `agent ${agent.id} presented a certificate it was not issued`;
    if (why !== undefined || agent === undefined) {
      metrics.batchesRejected++;
      logger.warn({ remote: request.ip, url: request.url, reason: why }, 'refused an agent request');
      // A revoked agent that keeps trying is news (rate-limited): a host that should be gone, or one taken over.
      if (agent?.revokedAt !== undefined && agent.certSha256 === presented) {
        const attempt = revokedAttempts.record(agent, request.body, deps.now());
        if (attempt !== undefined) await raiseAgentAlert({ id: agent.id, name: agent.name }, 'revoked-attempt', attempt);
      }
      await reply.code(401).send({ error: why });
      return undefined;
    }
    const nowMs = deps.now().getTime();
    if (nowMs - (touched.get(agent.id) ?? 0) >= touchEveryMs) {
      touched.set(agent.id, nowMs);
      const silentSince = await store.touchAgent(agent.id, deps.now().toISOString());
      if (silentSince !== undefined) await raiseAgentAlert({ id: agent.id, name: agent.name }, 'back', { silent_since: silentSince });
    }
    return { id: agent.id, name: agent.name };
  };

  const revokedAttempts = new RevokedAttempts();
  const raiseAgentAlert = async (agent: AgentRef, event: 'silent' | 'back' | 'outbox-overflow' | 'state-lost' | 'revoked' | 'revoked-attempt' | 'package-refused', details: Record<string, unknown>): Promise<void> => {
    const alert = buildAgentAlert({ id: newAlertId(deps.now()), timestamp: deps.now(), agent, event, details });
    await store.recordAgentAlert(alert);
    metrics.alerts++;
    logger.warn({ agentId: agent.id, event }, alert.full_log);
    await deliverAlerts(store, deps.sinks, [alert]);
  };

  /**
   * An agent whose numbering is behind what was applied lost or rolled back its state: raise rule 569, once per
   * episode (until the manager applies a batch of it again), and tell it to resynchronise.
   */
  const stateLost = async (agent: AgentRef, agentSeq: number, managerSeq: number, via: string): Promise<void> => {
    logger.error({ agentId: agent.id, agentSeq, managerSeq, via }, 'agent state lost or rolled back: it resynchronises against the baseline');
    if ((await store.getMeta(agent.id, 'state_lost_at_seq')) === String(managerSeq)) return;
    await store.setMeta(agent.id, 'state_lost_at_seq', String(managerSeq));
    await raiseAgentAlert(agent, 'state-lost', { agent_seq: agentSeq, manager_seq: managerSeq, detected_by: via });
  };

  app.get('/healthz', async () => ({ status: 'ok', agents: (await store.listAgentInfos()).filter((a) => a.id !== '000').length }));
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(metrics.render()));
  app.get('/v1/ca', async (_request, reply) => reply.type('application/x-pem-file').send(deps.pki.caCert));

  app.post('/v1/enroll', { bodyLimit: SMALL_BODY_LIMIT }, async (request, reply) => {
    const body = EnrollRequest.safeParse(request.body);
    if (!body.success) {
      metrics.enrollmentsRefused++;
      logger.warn({ remote: request.ip }, 'refused a malformed enrollment request');
      return reply.code(400).send({ error: 'malformed enrollment request' });
    }
    if (!(await verifyAgentCsr(deps.pki, body.data.csr))) {
      metrics.enrollmentsRefused++;
      logger.warn({ remote: request.ip, name: body.data.name }, 'refused an enrollment: the certificate request does not verify (its token is not used)');
      return reply.code(400).send({ error: 'the certificate request does not verify' });
    }
    const token = parseEnrollmentToken(body.data.token);
    const now = deps.now().toISOString();
    const wanted = body.data;
    const verdict = token === undefined ? 'unknown' : await store.consumeEnrollmentToken(token.id, sha256(token.secret), now, body.data.name);
    if (verdict !== 'ok' || token === undefined) {
      metrics.enrollmentsRefused++;
      // The token id is not secret; the secret is never logged.
      logger.warn({ remote: request.ip, tokenId: token?.id, name: body.data.name, reason: verdict }, `refused an enrollment: ${verdict === 'unknown' ? 'bad token' : `${verdict} token`}`);
      return reply.code(403).send({ error: verdict === 'unknown' ? 'invalid enrollment token' : `enrollment token ${verdict}` });
    }
    const identity = decideEnrollmentIdentity(await store.listAgentInfos(), {
      name: wanted.name,
      ...(wanted.machineId === undefined ? {} : { machineId: wanted.machineId }),
      ...(wanted.replace === undefined ? {} : { replace: wanted.replace }),
      ...(wanted.allowDuplicateName === undefined ? {} : { allowDuplicateName: wanted.allowDuplicateName }),
    });
    if (identity.kind === 'refuse') {
      metrics.enrollmentsRefused++;
      logger.warn({ remote: request.ip, tokenId: token.id, name: wanted.name, reason: identity.why }, 'refused an enrollment: identity');
      return reply.code(409).send({ error: identity.why });
    }
    let agent: AgentRef;
    let nextSeq: number | undefined;
    if (identity.kind === 'inherit') {
      agent = { id: identity.agent.id, name: wanted.name };
      await store.reenrollAgent(agent.id, { name: wanted.name, at: now, ...(wanted.group === undefined ? {} : { group: wanted.group }), ...(wanted.machineId === undefined ? {} : { machineId: wanted.machineId }) });
      nextSeq = (await store.lastSequence(agent.id)) + 1;
    } else {
      agent = await store.registerAgent(wanted.name, now, wanted.group, wanted.machineId);
    }
    const cert = await signAgentCsr(deps.pki, wanted.csr, agent.id);
    // The new certificate replaces any earlier one: an old installation of an inherited agent is refused from now on.
    await store.setAgentCertificate(agent.id, certSha256(cert));
    metrics.enrollments++;
    if (identity.kind === 'inherit') {
      logger.warn({ agentId: agent.id, name: agent.name, was: identity.agent.name, why: identity.why, nextSeq, remote: request.ip }, 'enrolled a host again: it keeps its identity and baseline, and its first scan is compared with it');
    } else {
      logger.info({ agentId: agent.id, name: agent.name, group: wanted.group, remote: request.ip }, 'enrolled an agent');
    }
    return { agentId: agent.id, name: agent.name, cert, ca: deps.pki.caCert, ...(nextSeq === undefined ? {} : { nextSeq, inherited: true }) };
  });

  app.post('/v1/batches', async (request, reply) => {
    const agent = await authenticate(request, reply);
    if (agent === undefined) return reply;
    const parsed = BatchRequest.safeParse(request.body);
    if (!parsed.success || parsed.data.agentId !== agent.id) {
      metrics.batchesRejected++;
      const why = parsed.success ? `batch for agent ${parsed.data.agentId} sent with the credentials of agent ${agent.id}` : 'malformed batch';
      logger.warn({ agentId: agent.id, remote: request.ip, reason: why }, 'refused a batch');
      return reply.code(parsed.success ? 403 : 400).send({ error: why, ack: await store.lastSequence(agent.id) });
    }
    const batch = parsed.data;
    metrics.inFlight++;
    try {
      const applied = await inTurn(async () => {
        const started = process.hrtime.bigint();
        try {
          if (batch.notice === 'outbox-overflow') await raiseAgentAlert(agent, 'outbox-overflow', { seq: batch.seq });
          const packages = await packageContext(agent);
          return await applyBatch(batch, agent, {
            store,
            ...(packages === undefined ? {} : { packages }),
            rules: deps.rules,
            correlation,
            ...(deps.knownHashes === undefined ? {} : { knownHashes: deps.knownHashes }),
            ...(deps.md5Allowlist === undefined ? {} : { md5Allowlist: deps.md5Allowlist }),
            ...(deps.contentDiffs === undefined ? {} : { contentDiffs: deps.contentDiffs }),
            sinks: deps.sinks,
            now: deps.now,
            policy: { alertNewFiles: deps.config.syscheck.alertNewFiles, autoIgnore: deps.config.syscheck.autoIgnore, knownHashPolicy: deps.config.knownHashes.policy },
          });
        } finally {
          metrics.observeIngest(Number(process.hrtime.bigint() - started) / 1e9);
        }
      });
      metrics.batches++;
      metrics.events += applied.summary.added + applied.summary.modified + applied.summary.deleted;
      metrics.alerts += applied.alerts;
      if (batch.end !== undefined) metrics.observeScan(batch.end.durationMs / 1000);
      return { ack: batch.seq, ...(applied.resync ? { resync: true } : {}) };
    } catch (error) {
      if (error instanceof SequenceError) {
        metrics.batchesRejected++;
        const applied = error.expected - 1;
        const kind = batch.seq <= applied ? 'replayed' : 'out-of-order';
        logger.warn({ agentId: agent.id, seq: batch.seq, expected: error.expected }, `refused a ${kind} batch`);
        if (kind === 'out-of-order') return reply.code(409).send({ ack: applied, error: `${kind} batch ${batch.seq}: the next one is ${error.expected}` });
        // Only the very batch last applied can come again (its acknowledgement was lost): anything else numbered
        // at or below it means the agent's numbering went back, so what it sends was never applied.
        if (batch.seq === applied && (await store.lastBatchSha256(agent.id)) === batchSha256(batch)) {
          return reply.code(409).send({ ack: applied, duplicate: true, error: `batch ${batch.seq} was already applied` });
        }
        await stateLost(agent, batch.seq, applied, 'batch');
        return reply.code(409).send({ ack: applied, stateLost: true, error: `batch ${batch.seq} is behind the ${applied} batches applied: this agent's state was lost or rolled back; resynchronise` });
      }
      if (error instanceof TypeError) {
        metrics.batchesRejected++;
        logger.warn({ agentId: agent.id, seq: batch.seq, reason: error.message }, 'refused a batch with a malformed observation');
        return reply.code(400).send({ ack: await store.lastSequence(agent.id), error: `malformed observation: ${error.message}` });
      }
      throw error;
    } finally {
      metrics.inFlight--;
    }
  });

  // An agent's package state: what its host installed and removed (host-scoped claims), and the .debs behind it,
  // verified here against the signed indexes the manager trusts (one upload serves the whole fleet).
  // What each agent's host has installed, read once per package report rather than for every batch.
  const packageContexts = new Map<string, Awaited<ReturnType<typeof agentPackageContext>>>();
  const packageContext = async (agent: AgentRef): Promise<Awaited<ReturnType<typeof agentPackageContext>> | undefined> => {
    if (deps.knownHashes === undefined) return undefined;
    let context = packageContexts.get(agent.id);
    if (context === undefined) {
      context = await agentPackageContext(agent, deps.knownHashes);
      packageContexts.set(agent.id, context);
    }
    return context;
  };

  // A .deb asked of one agent is not asked of another for ASK_AGAIN_MS: a fleet taking the same update uploads it once.
  // What the agent asked said each .deb was: the name a refusal alert gives a package it never parsed.
  const asked = new Map<string, { at: number; claimed: string }>();
  const askOnce = (sha256: string, claimed: string): boolean => {
    const now = Date.now();
    for (const [sha, { at }] of asked) if (now - at > ASK_AGAIN_MS) asked.delete(sha);
    if (asked.has(sha256)) return false;
    asked.set(sha256, { at: now, claimed });
    return true;
  };

  app.get('/v1/packages', async (request, reply) => {
    const agent = await authenticate(request, reply);
    if (agent === undefined) return reply;
    if (deps.knownHashes === undefined) return reply.code(404).send({ error: 'this manager keeps no known-hash database' });
    return packageStateOf(agent, deps.knownHashes);
  });

  app.post('/v1/packages', async (request, reply) => {
    const agent = await authenticate(request, reply);
    if (agent === undefined) return reply;
    const knownHashes = deps.knownHashes;
    if (knownHashes === undefined) return reply.code(404).send({ error: 'this manager keeps no known-hash database' });
    const parsed = PackageReport.safeParse(request.body);
    if (!parsed.success) {
      logger.warn({ agentId: agent.id, remote: request.ip, reason: parsed.error.issues[0]?.message }, 'refused a malformed package report');
      return reply.code(400).send({ error: 'malformed package report' });
    }
    const report = parsed.data;
    // In turn with batches: a batch applied after this report is judged with it.
    return inTurn(async () => {
      packageContexts.delete(agent.id);
      return applyPackageReport(report, agent, knownHashes, deps.debVerifier === undefined ? undefined : askOnce, deps.now());
    });
  });

  const uploads = new Map<string, number[]>();
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  app.post<{ Params: { sha256: string } }>('/v1/debs/:sha256', async (request, reply) => {
    const agent = await authenticate(request, reply);
    if (agent === undefined) return reply;
    const { sha256: claimed } = request.params;
    const body = request.body as Readable | undefined;
    if (deps.debVerifier === undefined) return reply.code(404).send({ error: 'this manager verifies no packages' });
    if (!/^[0-9a-f]{64}$/.test(claimed) || body === undefined || typeof (body).pipe !== 'function') {
      return reply.code(400).send({ error: 'expected POST /v1/debs/<sha256> with an application/octet-stream body' });
    }
    // At most UPLOADS_PER_HOUR per agent: one host cannot keep the manager verifying (or its disk filling).
    const now = Date.now();
    const recent = (uploads.get(agent.id) ?? []).filter((at) => now - at < 3_600_000);
    if (recent.length >= UPLOADS_PER_HOUR) {
      body.resume();
      logger.warn({ agentId: agent.id }, 'refused a .deb upload: too many this hour');
      return reply.code(429).send({ verified: false, reason: `at most ${UPLOADS_PER_HOUR} uploads an hour per agent` });
    }
    uploads.set(agent.id, [...recent, now]);
    const outcome = await deps.debVerifier.receive(claimed, body, asked.get(claimed)?.claimed);
    if (outcome.status === 'busy') return reply.code(429).send({ verified: false, reason: outcome.reason });
    if (outcome.status === 'bad-upload') {
      logger.warn({ agentId: agent.id, sha256: claimed, reason: outcome.reason }, 'refused a .deb upload');
      return reply.code(400).send({ verified: false, reason: outcome.reason });
    }
    if (outcome.status === 'refused') {
      logger.warn({ agentId: agent.id, sha256: claimed, package: outcome.package, reason: outcome.reason }, 'a package from an agent did not verify');
      await raiseAgentAlert(agent, 'package-refused', { sha256: claimed, package: outcome.package, reason: outcome.reason });
      return { verified: false, package: outcome.package, reason: outcome.reason };
    }
    logger.info({ agentId: agent.id, package: outcome.package }, 'verified a package from an agent');
    return { verified: true, package: outcome.package };
  });

  app.post('/v1/keepalive', { bodyLimit: SMALL_BODY_LIMIT }, async (request, reply) => {
    const agent = await authenticate(request, reply);
    if (agent === undefined) return reply;
    const ack = await store.lastSequence(agent.id);
    const body = KeepaliveRequest.safeParse(request.body ?? {});
    // An agent that has numbered fewer batches than the manager applied has lost (or rolled back) its state.
    if (body.success && body.data.seq !== undefined && body.data.seq < ack) {
      await stateLost(agent, body.data.seq, ack, 'keepalive');
      return { ok: true, ack, stateLost: true, continuity: true, inodeAttributes: true, ...contentCapability };
    }
    return { ok: true, ack, continuity: true, inodeAttributes: true, ...contentCapability };
  });

  app.get('/v1/config', async (request, reply) => {
    const agent = await authenticate(request, reply);
    if (agent === undefined) return reply;
    const central = centralConfigFor(deps.dataDir, agent.name, (await store.getAgent(agent.id))?.group);
    return central === undefined ? reply.code(204).send() : { yaml: central.yaml, version: central.version };
  });

  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : listen.port;
  const timer = setInterval(() => {
    void watchSilence(store, deps.config.manager.silentAfterMs, deps.now(), metrics, (agent, event, details) => {
      touched.delete(agent.id);
      return raiseAgentAlert(agent, event, details);
    }).catch((error: unknown) => logger.error({ err: error }, 'silence check failed'));
  }, Math.max(250, Math.min(30_000, deps.config.manager.silentAfterMs / 4)));
  // `manager revoke` writes the store from another process: announce revocations at start and within seconds.
  const announce = (): void =>
    void announceRevocations(store, (agent, details) => raiseAgentAlert(agent, 'revoked', details)).catch((error: unknown) => logger.error({ err: error }, 'revocation check failed'));
  announce();
  const revocations = setInterval(announce, 2000);
  logger.info({ host: listen.host, port, caSha256: deps.pki.caSha256 }, 'manager listening');
  return {
    url: `https://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`,
    port,
    metrics,
    close: async () => {
      clearInterval(timer);
      clearInterval(revocations);
      await app.close();
    },
  };
}

/** Routes only an enrolled agent may call: refused before the body is read without a client certificate. */
const AGENT_ROUTES: ReadonlySet<string> = new Set(['/v1/batches', '/v1/keepalive', '/v1/config', '/v1/packages', '/v1/debs/:sha256']);
/** Bodies of the routes that carry no observations (an enrollment: a token, names and a CSR of at most 16 KB). */
const SMALL_BODY_LIMIT = 64 << 10;

/** A connection's client certificate: read once per TLS connection (agents keep theirs open), not per request. */
const peers = new WeakMap<TLSSocket, { readonly id?: string; readonly sha256: string } | null>();

function peerOf(socket: TLSSocket): { readonly id?: string; readonly sha256: string } | undefined {
  let peer = peers.get(socket);
  if (peer === undefined) {
    const cert = socket.authorized ? socket.getPeerCertificate() : undefined;
    const cn = cert?.subject?.CN;
    // The certificate's SHA-256 is that of its DER bytes, as certSha256 computes it from PEM at issue.
    peer = cert?.raw === undefined ? null : { ...(typeof cn === 'string' ? { id: cn } : {}), sha256: createHash('sha256').update(cert.raw).digest('hex') };
    peers.set(socket, peer);
  }
  return peer ?? undefined;
}

/** Raises "agent silent" once for each agent not heard from within the threshold; updates the gauges. */
async function watchSilence(
  store: Store,
  silentAfterMs: number,
  now: Date,
  metrics: ManagerMetrics,
  raise: (agent: AgentRef, event: 'silent', details: Record<string, unknown>) => Promise<void>,
): Promise<void> {
  let connected = 0;
  let silent = 0;
  for (const agent of await store.listAgentInfos()) {
    if (agent.id === '000' || agent.revokedAt !== undefined) continue;
    const last = agent.lastSeen === undefined ? 0 : Date.parse(agent.lastSeen);
    if (now.getTime() - last <= silentAfterMs) {
      connected++;
      continue;
    }
    silent++;
    if (agent.silentSince === undefined) {
      await store.markAgentSilent(agent.id, now.toISOString());
      await raise({ id: agent.id, name: agent.name }, 'silent', { last_seen: agent.lastSeen, silent_after_s: silentAfterMs / 1000 });
    }
  }
  metrics.agentsConnected = connected;
  metrics.agentsSilent = silent;
}
