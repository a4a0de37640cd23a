import type Database from 'better-sqlite3';
import type { AnyAlert } from '../../core/build-alert.js';
import type { QueuedEmail } from '../../core/email-plan.js';
import type { EmailQueueEntry, SentEmail } from '../store.js';

/** Sent rows are kept this long: long enough that an alert redelivered after a crash finds it already mailed. */
const KEEP_SENT_MS = 30 * 24 * 3_600_000;

/** The email queue's SQL, on the store's write connection (see the `email_queue` migration). */
export class SqliteEmailQueue {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #pending: Database.Statement;
  readonly #markSent: Database.Statement;
  readonly #recordSent: Database.Statement;
  readonly #countSince: Database.Statement;
  readonly #pruneQueue: Database.Statement;
  readonly #pruneSent: Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare('INSERT OR IGNORE INTO email_queue (alert_id, route, alert, queued_ms) VALUES (?, ?, ?, ?)');
    this.#pending = db.prepare('SELECT seq, alert_id, route, alert, queued_ms FROM email_queue WHERE sent_mail IS NULL ORDER BY seq LIMIT ?').raw(true);
    this.#markSent = db.prepare('UPDATE email_queue SET sent_mail = ? WHERE seq = ? AND sent_mail IS NULL');
    this.#recordSent = db.prepare('INSERT OR IGNORE INTO email_sent (mail_id, sent_ms, alerts, outcome) VALUES (?, ?, ?, ?)');
    this.#countSince = db.prepare("SELECT count(*) FROM email_sent WHERE sent_ms >= ? AND outcome = 'sent'").pluck(true);
    this.#pruneQueue = db.prepare('DELETE FROM email_queue WHERE sent_mail IS NOT NULL AND queued_ms < ?');
    this.#pruneSent = db.prepare('DELETE FROM email_sent WHERE sent_ms < ?');
  }

  /** Queues entries in one transaction; an (alert, route) already queued, sent or not, is left as it is. */
  queue(entries: readonly EmailQueueEntry[], atMs: number): number {
    let added = 0;
    this.#db.transaction(() => {
      for (const e of entries) added += this.#insert.run(e.alertId, e.route, JSON.stringify(e.alert), atMs).changes;
    })();
    return added;
  }

  pending(limit: number): QueuedEmail[] {
    return (this.#pending.all(limit) as [number, string, string, string, number][]).map(([seq, alertId, route, alert, queuedAtMs]) => ({
      seq,
      alertId,
      route,
      alert: JSON.parse(alert) as AnyAlert,
      queuedAtMs,
    }));
  }

  /** Marks a message's alerts sent and records the message, in one transaction; prunes old rows. */
  recordSent(mail: SentEmail): void {
    this.#db.transaction(() => {
      for (const seq of mail.seqs) this.#markSent.run(mail.id, seq);
      this.#recordSent.run(mail.id, mail.sentAtMs, mail.seqs.length, mail.outcome);
      this.#pruneQueue.run(mail.sentAtMs - KEEP_SENT_MS);
      this.#pruneSent.run(mail.sentAtMs - KEEP_SENT_MS);
    })();
  }

  sentSince(sinceMs: number): number {
    return Number(this.#countSince.get(sinceMs));
  }
}
