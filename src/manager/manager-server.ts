import { deliverOrphanedAlerts, redeliverAlerts } from '../analysis/deliver-alerts.js';
import { consolePlugin } from './console/console-plugin.js';
import { createManagerApp } from './manager-app.js';
import { ManagerContext, type ManagerDeps } from './manager-context.js';
import type { ManagerMetrics } from './manager-metrics.js';
import { applyHistoryRetention, HISTORY_RETENTION_EVERY_MS } from './history-retention-task.js';
import { startPeriodicTask } from './periodic-task.js';
import { announceRevocations } from './revocation-alerts.js';
import { silenceCheckEveryMs, watchSilence } from './silence-watch.js';

export type { ManagerDeps } from './manager-context.js';

/** A running manager. */
export interface RunningManager {
  readonly url: string;
  readonly port: number;
  readonly metrics: ManagerMetrics;
  close(): Promise<void>;
}

/**
 * The manager's HTTPS API (ARCHITECTURE §3.3, §4) and its periodic work, wired together: TLS 1.3 only, with the
 * manager's own CA; agents authenticate with the client certificate they got at enrollment; enrollment is the
 * only call without one, and needs a single-use token (the routes: src/manager/routes/). Alerts an interrupted
 * run stored but did not write out go first; then the silence watch and the revocation announcer run on timers.
 */
export async function startManager(deps: ManagerDeps, listen: { host: string; port: number }): Promise<RunningManager> {
  const { store, logger } = deps;
  const ctx = new ManagerContext(deps);
  // Alerts a killed manager had committed but not yet written out go first, before any new ones.
  const redelivered = await redeliverAlerts(store, deps.sinks);
  if (redelivered > 0) logger.warn({ alerts: redelivered }, 'delivered alerts that an interrupted run had stored but not yet written out');
  const app = await createManagerApp(ctx, { tls: true });
  // The web console and its API (/ and /api/), on the same HTTPS port; its own authentication, never an agent's.
  const operations = {
    dataDir: deps.dataDir,
    caSha256: deps.pki.caSha256,
    tokenTtlMs: deps.config.manager.tokenTtlMs,
    ...(deps.knownHashes === undefined ? {} : { knownHashes: deps.knownHashes }),
  };
  await app.register(consolePlugin({ store, silentAfterMs: deps.config.manager.silentAfterMs, logger, now: deps.now, operations }));
  await app.listen({ host: listen.host, port: listen.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : listen.port;
  const silentAfterMs = deps.config.manager.silentAfterMs;
  // Several managers on one store: the periodic work runs on the one holding the leadership (an advisory lock).
  const leads = async (): Promise<boolean> => deps.leadership === undefined || (await deps.leadership.isLeader());
  const silence = startPeriodicTask(
    'silence check',
    silenceCheckEveryMs(silentAfterMs),
    async () => {
      if (!(await leads())) return;
      await watchSilence(store, silentAfterMs, deps.now(), ctx.metrics, (agent, event, details) => {
        // Its next request writes last_seen at once (and raises "agent back").
        ctx.touched.delete(agent.id);
        return ctx.raiseAgentAlert(agent, event, details);
      });
    },
    logger,
  );
  // `manager revoke` writes the store from another process: announce revocations at start and within seconds.
  const revocations = startPeriodicTask(
    'revocation check',
    2000,
    async () => {
      if (await leads()) await announceRevocations(store, (agent, details) => ctx.raiseAgentAlert(agent, 'revoked', details));
    },
    logger,
    true,
  );
  // Several managers on one store: the alerts a dead one left claimed go out through this one once its lease ran out.
  const orphans =
    deps.leadership === undefined
      ? undefined
      : startPeriodicTask(
          'orphaned alert sweep',
          Math.max(1000, Math.min(30_000, deps.config.manager.alertLeaseMs / 4)),
          async () => {
            const swept = await deliverOrphanedAlerts(store, deps.sinks);
            if (swept > 0) logger.warn({ alerts: swept }, 'delivered alerts another manager had committed but not written out (its claim ran out)');
          },
          logger,
        );
  // `database.history_retention`: on one manager at a time, at start and then hourly.
  const retentionMs = deps.config.storage.historyRetentionMs;
  const retention =
    retentionMs === undefined
      ? undefined
      : startPeriodicTask(
          'history retention',
          HISTORY_RETENTION_EVERY_MS,
          async () => {
            if (!(await leads())) return;
            await applyHistoryRetention(store, retentionMs, deps.now(), logger, async (agentId, details) => {
              const agent = await store.getAgent(agentId);
              await ctx.raiseAgentAlert({ id: agentId, name: agent?.name ?? agentId }, 'history-trimmed', details);
            });
          },
          logger,
          true,
        );
  logger.info({ host: listen.host, port, caSha256: deps.pki.caSha256 }, 'manager listening');
  return {
    url: `https://${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`,
    port,
    metrics: ctx.metrics,
    close: async () => {
      await silence.stop();
      await revocations.stop();
      await retention?.stop();
      await orphans?.stop();
      await app.close();
    },
  };
}
