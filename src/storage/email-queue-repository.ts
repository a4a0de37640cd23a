import type { AnyAlert } from '../core/build-alert.js';
import type { QueuedEmail } from '../core/email-plan.js';

/** An alert to queue for mailing along one route (see `routeKey`). */
export interface EmailQueueEntry {
  readonly alertId: string;
  readonly route: string;
  readonly alert: AnyAlert;
}

/** A message handed to the SMTP server (`sent`), or refused by it for good (`rejected`). */
export interface SentEmail {
  readonly id: string;
  /** The queue rows it carried. */
  readonly seqs: readonly number[];
  readonly sentAtMs: number;
  readonly outcome: 'sent' | 'rejected';
}

/** The email sink's durable queue: what to mail, what was mailed, and how much was mailed lately. */
export interface EmailQueueRepository {
  /**
   * Queues alerts for the email sink, in one transaction. An alert already queued for a route (sent or not) is not
   * queued again, so redelivering alerts after a crash never mails them twice. Returns how many were added.
   */
  queueEmails(entries: readonly EmailQueueEntry[], atMs: number): Promise<number>;
  /** The oldest `limit` queued emails not yet sent. */
  pendingEmails(limit: number): Promise<readonly QueuedEmail[]>;
  /** Records a message as sent (or refused for good) and takes its alerts off the email queue, in one transaction. */
  recordEmailSent(mail: SentEmail): Promise<void>;
  /** How many messages were sent since `sinceMs` (refused ones do not count). */
  emailsSentSince(sinceMs: number): Promise<number>;
}
