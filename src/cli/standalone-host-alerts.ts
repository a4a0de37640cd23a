import type { ScanStats } from '../agent/scan-stats.js';
import type { UnscannableRoot } from '../agent/root-coverage.js';
import type { AlertSink } from '../analysis/alert-sink.js';
import { deliverAlerts } from '../analysis/deliver-alerts.js';
import { buildAgentAlert, buildDirectoryNotScannedAlert } from '../core/agent-alerts.js';
import { newAlertId } from '../core/alert-id.js';
import type { AgentRef } from '../core/build-alert.js';
import { hostIdentity } from '../hashdb/host-identity.js';
import { dpkgSource } from '../hashdb/import/import-dpkg.js';
import { rpmSource } from '../hashdb/import/import-rpm.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import { dpkgDatabaseStamp } from '../host/dpkg-database.js';
import { rpmDatabaseStamp } from '../host/rpm-database.js';
import type { Store } from '../storage/store.js';

/** What the standalone check's own alerts (not a file's) need: where they are recorded and delivered, and about whom. */
export interface AlertDeps {
  readonly store: Store;
  readonly sinks: readonly AlertSink[];
  readonly agent: AgentRef;
  readonly now: () => Date;
}

/**
 * Rule 568 when the host's dpkg database changed after the last import of it (the hook did not run: removed,
 * failing, or dpkg driven in a way that skips it), so the package changes this scan finds are not explained. Said
 * on every check until an import catches up; nothing when the database was never imported.
 */
export async function alertMissedImport(knownHashes: KnownHashStore, root: string, deps: AlertDeps): Promise<number> {
  const host = hostIdentity(root);
  const dpkg = await knownHashes.databaseStamp(dpkgSource(root, host));
  const rpm = await knownHashes.databaseStamp(rpmSource(root, host));
  const behind = [
    ...(dpkg !== undefined && dpkg !== dpkgDatabaseStamp(root) ? ['dpkg'] : []),
    ...(rpm !== undefined && rpm !== currentRpmStamp(root) ? ['rpm'] : []),
  ];
  if (behind.length === 0) return 0;
  const alert = buildAgentAlert({
    id: newAlertId(deps.now()),
    timestamp: deps.now(),
    agent: deps.agent,
    event: 'packages-not-imported',
    details: { root, database: behind.join(', ') },
  });
  await deps.store.recordAgentAlert(alert);
  await deliverAlerts(deps.store, deps.sinks, [alert]);
  return 1;
}

function currentRpmStamp(root: string): string | undefined {
  try {
    return rpmDatabaseStamp(root);
  } catch {
    return undefined; // rpm gone, or its database: the recorded stamp differs, so the import is reported missing
  }
}

/**
 * Raises rule 574 for each subtree (up to the scan's samples) the walk could not look into, other than a
 * monitored directory itself (that is rule 572); returns how many.
 */
export async function alertUnscannedSubtrees(stats: ScanStats, deps: AlertDeps): Promise<number> {
  const alerts = [];
  for (const { path, issue } of stats.unscannedSamples) {
    if (stats.unscannableRoots.some((r) => r.path.equals(path))) continue;
    const reason = `${issue.code}: ${issue.message}`.replace(/\p{Cc}/gu, ' ');
    const alert = buildDirectoryNotScannedAlert({ id: newAlertId(deps.now()), timestamp: deps.now(), agent: deps.agent, path, reason, subtree: true });
    await deps.store.recordAgentAlert(alert);
    alerts.push(alert);
  }
  await deliverAlerts(deps.store, deps.sinks, alerts);
  return alerts.length;
}

/** Raises rule 572 for each monitored directory the scan found nothing to scan in; returns how many. */
export async function alertUnscannableRoots(roots: readonly UnscannableRoot[], deps: AlertDeps): Promise<number> {
  const alerts = [];
  for (const root of roots) {
    const alert = buildDirectoryNotScannedAlert({ id: newAlertId(deps.now()), timestamp: deps.now(), agent: deps.agent, path: root.path, reason: root.reason });
    await deps.store.recordAgentAlert(alert);
    alerts.push(alert);
  }
  await deliverAlerts(deps.store, deps.sinks, alerts);
  return alerts.length;
}
