import type { AnyAlert } from './build-alert.js';
import { routeFromKey, type EmailRoute } from './email-route.js';

/** One alert waiting in the email queue for one route. */
export interface QueuedEmail {
  /** Queue order. */
  readonly seq: number;
  readonly alertId: string;
  /** See `routeKey`. */
  readonly route: string;
  readonly alert: AnyAlert;
  readonly queuedAtMs: number;
}

/** One message to send now. */
export interface PlannedMail {
  readonly route: EmailRoute;
  readonly items: readonly QueuedEmail[];
}

/** What to send now, and when to look again (absent: nothing is waiting). */
export interface EmailPlan {
  readonly mails: readonly PlannedMail[];
  readonly wakeAtMs?: number;
  /** Alerts due but held back by `email_maxperhour` until the next hour. */
  readonly held: number;
}

/** The knobs of {@link planEmails}. */
export interface EmailPlanOptions {
  readonly nowMs: number;
  /** Messages already sent in the current clock hour. */
  readonly sentThisHour: number;
  readonly maxPerHour: number;
  readonly groupWaitMs: number;
  readonly maxDelayMs: number;
  /** Send every waiting burst now (a one-shot `check` about to exit). */
  readonly flush: boolean;
  /** A larger burst is split over several messages. */
  readonly maxAlertsPerMail: number;
}

const HOUR_MS = 3_600_000;

/**
 * Decides which queued alerts go out now, grouped as OSSEC's maild groups them: alerts of one route that arrive
 * in a burst share one message, sent once no new alert has come for `groupWaitMs` (or the burst's first alert has
 * waited `maxDelayMs`); `do_not_delay` routes go at once and `do_not_group` routes one alert per message. At most
 * `maxPerHour` messages a clock hour: what is due beyond that is held, and at the next hour everything held goes
 * out grouped. Oldest first.
 */
export function planEmails(queue: readonly QueuedEmail[], o: EmailPlanOptions): EmailPlan {
  const hourStart = Math.floor(o.nowMs / HOUR_MS) * HOUR_MS;
  const byRoute = new Map<string, QueuedEmail[]>();
  for (const item of queue) {
    const list = byRoute.get(item.route) ?? [];
    list.push(item);
    byRoute.set(item.route, list);
  }
  const due: PlannedMail[] = [];
  let wakeAtMs: number | undefined;
  const wakeAt = (ms: number): void => {
    wakeAtMs = wakeAtMs === undefined ? ms : Math.min(wakeAtMs, ms);
  };
  for (const [key, items] of byRoute) {
    const route = routeFromKey(key);
    if (!route.group) {
      for (const item of items) due.push({ route, items: [item] });
      continue;
    }
    const oldest = items[0]?.queuedAtMs ?? o.nowMs;
    const newest = items[items.length - 1]?.queuedAtMs ?? o.nowMs;
    // Held over from an earlier hour, or the burst is over (or has gone on long enough): send.
    const ready = o.flush || !route.delay || oldest < hourStart || o.nowMs - newest >= o.groupWaitMs || o.nowMs - oldest >= o.maxDelayMs;
    if (!ready) {
      wakeAt(Math.min(newest + o.groupWaitMs, oldest + o.maxDelayMs));
      continue;
    }
    for (let i = 0; i < items.length; i += o.maxAlertsPerMail) due.push({ route, items: items.slice(i, i + o.maxAlertsPerMail) });
  }
  due.sort((a, b) => (a.items[0]?.seq ?? 0) - (b.items[0]?.seq ?? 0));
  const budget = Math.max(0, o.maxPerHour - o.sentThisHour);
  const mails = due.slice(0, budget);
  const held = due.slice(budget).reduce((n, m) => n + m.items.length, 0);
  if (held > 0) wakeAt(hourStart + HOUR_MS);
  return { mails, held, ...(wakeAtMs === undefined ? {} : { wakeAtMs }) };
}

/** The start of the clock hour `ms` falls in (`email_maxperhour` counts messages from there). */
export function hourStartMs(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}
