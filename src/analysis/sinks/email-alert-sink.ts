import { createHash } from 'node:crypto';
import type { AnyAlert } from '../../core/build-alert.js';
import type { EmailConfig } from '../../core/config/email-config.js';
import { hourStartMs, planEmails, type PlannedMail } from '../../core/email-plan.js';
import { compileEmailRouter, routeKey, type EmailRouter } from '../../core/email-route.js';
import type { EmailQueueEntry, Store } from '../../storage/store.js';
import type { AlertSink } from '../alert-sink.js';
import { ossecLocation } from './format-ossec-alert.js';
import { formatOssecMail } from './format-ossec-mail.js';
import type { MailSender } from './smtp-sender.js';
import type { SinkLog } from './syslog-alert-sink.js';

/** Queued alerts looked at per pass: a long outage's backlog must not fill memory. */
const PAGE = 5000;
/** A larger burst is split over several messages (OSSEC caps a message's size too). */
const MAX_ALERTS_PER_MAIL = 500;
const MAX_RETRY_DELAY_MS = 600_000;

/** What the email sink needs. */
export interface EmailSinkDeps {
  readonly store: Store;
  readonly config: EmailConfig;
  readonly sender: MailSender;
  /** This host, for the location of standalone alerts (`host->syscheck`). */
  readonly hostname: string;
  readonly log: SinkLog;
  /**
   * `true` (the manager): mail in the background as bursts end, retrying with backoff while the server is down.
   * `false` (`check`): queue only, and mail everything due when closed; what fails waits for the next check.
   */
  readonly background: boolean;
  readonly now?: () => number;
}

/** How a pass over the queue ended. */
export interface EmailPassResult {
  readonly sent: number;
  readonly alertsSent: number;
  /** Alerts due but held by `email_maxperhour`. */
  readonly held: number;
  /** Why sending stopped, when the server could not be reached or refused. */
  readonly failure?: string;
}

/**
 * Mails alerts as OSSEC does (see `planEmails` for grouping and `email_maxperhour`, `formatOssecMail` for the
 * text). Durable: `write` puts each alert on the store's email queue for each of its routes before the alert
 * leaves the delivery queue, and an alert leaves the email queue only in the transaction that records its message
 * as accepted by the server. A crash therefore loses nothing; the only repeat possible is a message accepted in
 * the instant before that transaction, and it carries the same Message-ID.
 */
export class EmailAlertSink implements AlertSink {
  readonly #deps: EmailSinkDeps;
  readonly #route: EmailRouter;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #running: Promise<EmailPassResult> | undefined;
  #again = false;
  #retryDelayMs: number;
  #failing = false;
  #heldLogged = -1;
  #closed = false;

  constructor(deps: EmailSinkDeps) {
    this.#deps = deps;
    this.#route = compileEmailRouter(deps.config);
    this.#now = deps.now ?? Date.now;
    this.#retryDelayMs = deps.config.retryDelayMs;
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    const entries: EmailQueueEntry[] = [];
    for (const alert of alerts) {
      for (const route of this.#route(alert, ossecLocation(alert, this.#deps.hostname))) entries.push({ alertId: alert.id, route: routeKey(route), alert });
    }
    if (entries.length === 0) return;
    await this.#deps.store.queueEmails(entries, this.#now());
    // While the server is failing, the retry timer decides when to try again.
    if (this.#deps.background && !this.#failing) this.#wake(0);
  }

  /** The queue ignores alerts it already holds (or has mailed), so redelivery is the same as delivery. */
  async redeliver(alerts: readonly AnyAlert[]): Promise<void> {
    await this.write(alerts);
  }

  /** Starts mailing what an earlier run left on the queue (the manager, at start). */
  resume(): void {
    if (this.#deps.background) this.#wake(0);
  }

  /** Mails everything waiting now, bursts included (held back only by `email_maxperhour`). */
  async flush(): Promise<EmailPassResult> {
    await this.#running?.catch(() => undefined);
    return this.#pass(true);
  }

  /** `check`: mails what is due. The manager: waits for a message being sent, and mails waiting bursts unless the server is failing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => undefined);
    if (!this.#failing) {
      const result = await this.#pass(true).catch((error: Error): undefined => void this.#deps.log(`email: ${error.message}`));
      if (!this.#deps.background && result !== undefined && result.sent > 0)
        this.#deps.log(`email: mailed ${result.alertsSent} alerts in ${result.sent} messages`);
    }
    this.#deps.sender.close();
  }

  #wake(delayMs: number): void {
    if (this.#closed) return;
    const at = this.#now() + delayMs;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#run();
    }, delayMs);
    this.#timer.unref();
  }

  #run(): void {
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass(false)
      .catch((error: Error): EmailPassResult => {
        // A store error: try again later rather than stop mailing for good.
        this.#deps.log(`email: ${error.message}`);
        this.#wake(this.#deps.config.retryDelayMs);
        return { sent: 0, alertsSent: 0, held: 0, failure: error.message };
      })
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#run();
        }
      });
  }

  async #pass(flush: boolean): Promise<EmailPassResult> {
    const { store, config } = this.#deps;
    let sent = 0;
    let alertsSent = 0;
    for (;;) {
      const now = this.#now();
      const queue = await store.pendingEmails(PAGE);
      if (queue.length === 0) return { sent, alertsSent, held: 0 };
      const plan = planEmails(queue, {
        nowMs: now,
        sentThisHour: await store.emailsSentSince(hourStartMs(now)),
        maxPerHour: config.maxPerHour,
        groupWaitMs: config.groupWaitMs,
        maxDelayMs: config.maxDelayMs,
        flush,
        maxAlertsPerMail: MAX_ALERTS_PER_MAIL,
      });
      this.#noteHeld(plan.held, plan.wakeAtMs);
      if (plan.mails.length === 0) {
        if (this.#deps.background && plan.wakeAtMs !== undefined) this.#wake(Math.max(0, plan.wakeAtMs - now));
        return { sent, alertsSent, held: plan.held };
      }
      for (const mail of plan.mails) {
        const failure = await this.#send(mail);
        if (failure !== undefined) {
          this.#failing = true;
          this.#deps.log(
            `email: cannot mail ${mail.items.length} alerts through ${config.smtpHost}:${config.smtpPort} (${failure}); they stay queued${this.#deps.background ? `, next try in ${Math.round(this.#retryDelayMs / 100) / 10} s` : ' for the next check'}`,
          );
          if (this.#deps.background) this.#wake(this.#retryDelayMs);
          this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, MAX_RETRY_DELAY_MS);
          return { sent, alertsSent, held: plan.held, failure };
        }
        sent++;
        alertsSent += mail.items.length;
      }
      this.#failing = false;
      this.#retryDelayMs = config.retryDelayMs;
    }
  }

  /** Sends one message and records it; returns why not, for a failure worth retrying. */
  async #send(mail: PlannedMail): Promise<string | undefined> {
    const alerts = mail.items.map((i) => i.alert);
    const { subject, text } = formatOssecMail(alerts, this.#deps.hostname);
    const id = createHash('sha256')
      .update(`${JSON.stringify(mail.route.to)}\n${mail.items.map((i) => `${i.alertId}\n`).join('')}`)
      .digest('hex')
      .slice(0, 40);
    const domain = this.#deps.config.from.slice(this.#deps.config.from.lastIndexOf('@') + 1);
    const result = await this.#deps.sender.send({ to: mail.route.to, subject, text, messageId: `<custos.${id}@${domain}>` });
    if (result.kind === 'transient') return result.reason;
    if (result.kind === 'permanent')
      this.#deps.log(
        `email: the server refused a message of ${alerts.length} alerts to ${mail.route.to.join(', ')} for good (${result.reason}); the alerts remain in the store`,
      );
    else if ('refused' in result && result.refused.length > 0)
      this.#deps.log(`email: the server refused recipients ${result.refused.join(', ')} of a message of ${alerts.length} alerts (the others got it)`);
    await this.#deps.store.recordEmailSent({
      id,
      seqs: mail.items.map((i) => i.seq),
      sentAtMs: this.#now(),
      outcome: result.kind === 'sent' ? 'sent' : 'rejected',
    });
    return undefined;
  }

  /** Says once per hour that `email_maxperhour` holds alerts back. */
  #noteHeld(held: number, wakeAtMs: number | undefined): void {
    if (held === 0) return;
    const hour = hourStartMs(this.#now());
    if (this.#heldLogged === hour) return;
    this.#heldLogged = hour;
    const until = wakeAtMs === undefined ? 'the next hour' : new Date(wakeAtMs).toISOString();
    this.#deps.log(`email: email_maxperhour (${this.#deps.config.maxPerHour}) reached; ${held} alerts are held and go out grouped after ${until}`);
  }
}
