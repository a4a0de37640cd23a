import type { AnyAlert } from '../core/build-alert.js';
import type { Store } from '../storage/store.js';
import type { AlertSink } from './alert-sink.js';

/**
 * Hands committed alerts to every sink, then takes them off the store's delivery queue. If the process dies or a
 * sink fails in between, they stay queued and `redeliverAlerts` delivers them at the next start.
 */
export async function deliverAlerts(store: Store, sinks: readonly AlertSink[], alerts: readonly AnyAlert[]): Promise<void> {
  if (alerts.length === 0) return;
  for (const sink of sinks) await sink.write(alerts);
  await store.markAlertsDelivered(alerts.map((a) => a.id));
}

/**
 * Delivers what an interrupted run left on the delivery queue (call before anything else is delivered, so the
 * sinks keep the order alerts were raised in). Returns how many alerts were on the queue.
 */
export async function redeliverAlerts(store: Store, sinks: readonly AlertSink[]): Promise<number> {
  const pending = await store.undeliveredAlerts();
  if (pending.length === 0) return 0;
  for (const sink of sinks) await (sink.redeliver === undefined ? sink.write(pending) : sink.redeliver(pending));
  await store.markAlertsDelivered(pending.map((a) => a.id));
  return pending.length;
}
