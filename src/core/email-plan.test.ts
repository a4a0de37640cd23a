import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyAlert } from './build-alert.js';
import { planEmails, type EmailPlanOptions, type QueuedEmail } from './email-plan.js';
import { routeKey } from './email-route.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const grouped = routeKey({ to: ['ops@example.com'], delay: true, group: true });
const urgent = routeKey({ to: ['oncall@example.com'], delay: false, group: true });
const single = routeKey({ to: ['audit@example.com'], delay: true, group: false });

const alert = (id: string): AnyAlert =>
  ({
    id,
    timestamp: new Date(T0).toISOString(),
    agent: { id: '000', name: 'h' },
    rule: { id: 550, level: 7, description: 'x', groups: ['syscheck'] },
    full_log: id,
  }) as unknown as AnyAlert;

let seq = 0;
const queued = (route: string, atMs: number, n = 1): QueuedEmail[] =>
  Array.from({ length: n }, () => {
    seq++;
    return { seq, alertId: `a${seq}`, route, alert: alert(`a${seq}`), queuedAtMs: atMs };
  });

const options = (o: Partial<EmailPlanOptions> = {}): EmailPlanOptions => ({
  nowMs: T0 + 60_000,
  sentThisHour: 0,
  maxPerHour: 12,
  groupWaitMs: 5000,
  maxDelayMs: 60_000,
  flush: false,
  maxAlertsPerMail: 500,
  ...o,
});

describe('planEmails', () => {
  it('waits while a burst is still arriving, then mails it as one message', () => {
    const burst = queued(grouped, T0 + 58_000, 40);
    const early = planEmails(burst, options());
    assert.equal(early.mails.length, 0);
    assert.equal(early.wakeAtMs, T0 + 63_000, 'once the burst has been quiet for group_wait');
    const later = planEmails(burst, options({ nowMs: T0 + 63_000 }));
    assert.equal(later.mails.length, 1);
    assert.equal(later.mails[0]?.items.length, 40);
  });
  it('mails a burst that never quiets down once its first alert has waited max_delay', () => {
    const burst = [...queued(grouped, T0), ...queued(grouped, T0 + 59_000)];
    assert.equal(planEmails(burst, options({ nowMs: T0 + 59_500 })).mails.length, 0);
    assert.equal(planEmails(burst, options({ nowMs: T0 + 60_000 })).mails.length, 1);
  });
  it('sends do_not_delay routes at once and do_not_group routes one alert per message', () => {
    const q = [...queued(urgent, T0 + 59_999, 3), ...queued(single, T0 + 59_999, 2)];
    const plan = planEmails(q, options());
    assert.deepEqual(
      plan.mails.map((m) => [m.route.to[0], m.items.length]),
      [
        ['oncall@example.com', 3],
        ['audit@example.com', 1],
        ['audit@example.com', 1],
      ],
    );
  });
  it('splits a very large burst over several messages', () => {
    const plan = planEmails(queued(grouped, T0, 1201), options({ maxAlertsPerMail: 500 }));
    assert.deepEqual(
      plan.mails.map((m) => m.items.length),
      [500, 500, 201],
    );
  });
  it('holds what exceeds email_maxperhour, and mails it grouped at the next hour', () => {
    const q = [...queued(single, T0, 3), ...queued(grouped, T0 + 1000, 2)];
    const now = planEmails(q, options({ sentThisHour: 10 }));
    assert.equal(now.mails.length, 2, 'two messages left this hour');
    assert.equal(now.held, 3, 'the third single alert and the burst of two wait');
    assert.equal(now.wakeAtMs, T0 + HOUR);
    const heldBack = q.filter((item) => !now.mails.some((m) => m.items.includes(item)));
    const next = planEmails(heldBack, options({ nowMs: T0 + HOUR, sentThisHour: 0 }));
    assert.deepEqual(
      next.mails.map((m) => m.items.length),
      [1, 2],
    );
    assert.equal(next.held, 0);
  });
  it('flush sends waiting bursts now, still within email_maxperhour', () => {
    const q = [...queued(grouped, T0 + 59_999, 5), ...queued(single, T0 + 59_999, 2)];
    const plan = planEmails(q, options({ flush: true, sentThisHour: 11 }));
    assert.equal(plan.mails.length, 1);
    assert.equal(plan.held, 2);
  });
});
