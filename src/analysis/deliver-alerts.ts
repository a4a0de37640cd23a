import type { AnyAlert } from '../core/build-alert.js';
import { SerialQueue } from '../core/serial-queue.js';
import type { Store } from '../storage/store.js';
import type { AlertSink } from './alert-sink.js';

/** Alerts read from the delivery queue at a time: a queue left long by a failing sink must not fill memory. */
const PAGE = 1000;

/** Stores whose last delivery failed: their queue holds older alerts, which go out before any new one. */
const backlogged = new WeakSet<Store>();

/**
 * Deliveries to one store's sinks, one at a time in the order they were asked for: with group commit several
 * batches' callers resume together after one COMMIT, and their alerts must reach the sinks whole and in order.
 */
const deliveries = new WeakMap<Store, SerialQueue>();

/**
 * Hands committed alerts to every sink, then takes them off the store's delivery queue. If a sink fails, they
 * stay queued and the next delivery (or the next start, `redeliverAlerts`) sends the queue first, in order.
 */
export async function deliverAlerts(store: Store, sinks: readonly AlertSink[], alerts: readonly AnyAlert[]): Promise<void> {
  if (alerts.length === 0) return;
  let queue = deliveries.get(store);
  if (queue === undefined) {
    queue = new SerialQueue();
    deliveries.set(store, queue);
  }
  await queue.run(() => deliverInTurn(store, sinks, alerts));
}

async function deliverInTurn(store: Store, sinks: readonly AlertSink[], alerts: readonly AnyAlert[]): Promise<void> {
  if (backlogged.has(store)) {
    // The queue holds these alerts too (they were committed before this call).
    await redeliverAlerts(store, sinks);
    return;
  }
  try {
    for (const sink of sinks) await sink.write(alerts);
  } catch (error) {
    backlogged.add(store);
    throw error;
  }
  await store.markAlertsDelivered(alerts.map((a) => a.id));
}

/**
 * Delivers what is left on the delivery queue, oldest first: at start-up, what an interrupted run had committed but
 * not handed over; after a failed delivery, the backlog. Sinks that can see what they already hold (the files)
 * skip those. Returns how many alerts were on the queue.
 */
export async function redeliverAlerts(store: Store, sinks: readonly AlertSink[]): Promise<number> {
  let total = 0;
  try {
    for (let page = await store.undeliveredAlerts(PAGE); page.length > 0; page = await store.undeliveredAlerts(PAGE)) {
      for (const sink of sinks) await (sink.redeliver === undefined ? sink.write(page) : sink.redeliver(page));
      await store.markAlertsDelivered(page.map((a) => a.id));
      total += page.length;
    }
  } catch (error) {
    backlogged.add(store);
    throw error;
  }
  backlogged.delete(store);
  return total;
}

/**
 * Delivers what another manager on the same store committed and never delivered (it died; its claim ran out), as
 * a live manager sweeps it up: through each sink's redelivery, so a file that has an alert already skips it.
 * Returns how many it delivered.
 */
export async function deliverOrphanedAlerts(store: Store, sinks: readonly AlertSink[]): Promise<number> {
  let total = 0;
  for (let page = await store.orphanedAlerts(PAGE); page.length > 0; page = await store.orphanedAlerts(PAGE)) {
    for (const sink of sinks) await (sink.redeliver === undefined ? sink.write(page) : sink.redeliver(page));
    await store.markAlertsDelivered(page.map((a) => a.id));
    total += page.length;
  }
  return total;
}
