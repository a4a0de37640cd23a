import type { AnyAlert } from '../../core/build-alert.js';
import type { QueuedEmail } from '../../core/email-plan.js';
import type { EmailQueueEntry, EmailQueueRepository, SentEmail } from '../email-queue-repository.js';
import type { SqliteConnection } from './sqlite-connection.js';

/** Sent rows are kept this long: long enough that an alert redelivered after a crash finds it already mailed. */
const KEEP_SENT_MS = 30 * 24 * 3_600_000;

/** The email queue in SQLite (see the `email_queue` migration), on the store's write connection. */
export class SqliteEmailQueue implements EmailQueueRepository {
  readonly #conn: SqliteConnection;

  constructor(conn: SqliteConnection) {
    this.#conn = conn;
  }

  async queueEmails(entries: readonly EmailQueueEntry[], atMs: number): Promise<number> {
    const insert = this.#conn.statement('INSERT OR IGNORE INTO email_queue (alert_id, route, alert, queued_ms) VALUES (?, ?, ?, ?)');
    let added = 0;
    this.#conn.transaction(() => {
      for (const e of entries) added += insert.run(e.alertId, e.route, JSON.stringify(e.alert), atMs).changes;
    });
    return added;
  }

  async pendingEmails(limit: number): Promise<readonly QueuedEmail[]> {
    const rows = this.#conn
      .statement('SELECT seq, alert_id, route, alert, queued_ms FROM email_queue WHERE sent_mail IS NULL ORDER BY seq LIMIT ?', 'raw')
      .all(limit) as [number, string, string, string, number][];
    return rows.map(([seq, alertId, route, alert, queuedAtMs]) => ({ seq, alertId, route, alert: JSON.parse(alert) as AnyAlert, queuedAtMs }));
  }

  async recordEmailSent(mail: SentEmail): Promise<void> {
    const markSent = this.#conn.statement('UPDATE email_queue SET sent_mail = ? WHERE seq = ? AND sent_mail IS NULL');
    this.#conn.transaction(() => {
      for (const seq of mail.seqs) markSent.run(mail.id, seq);
      this.#conn
        .statement('INSERT OR IGNORE INTO email_sent (mail_id, sent_ms, alerts, outcome) VALUES (?, ?, ?, ?)')
        .run(mail.id, mail.sentAtMs, mail.seqs.length, mail.outcome);
      // Old rows go as new ones come: the queue stays as long as KEEP_SENT_MS of mail, not the store's life.
      this.#conn.statement('DELETE FROM email_queue WHERE sent_mail IS NOT NULL AND queued_ms < ?').run(mail.sentAtMs - KEEP_SENT_MS);
      this.#conn.statement('DELETE FROM email_sent WHERE sent_ms < ?').run(mail.sentAtMs - KEEP_SENT_MS);
    });
  }

  async emailsSentSince(sinceMs: number): Promise<number> {
    return Number(this.#conn.statement("SELECT count(*) FROM email_sent WHERE sent_ms >= ? AND outcome = 'sent'", 'pluck').get(sinceMs));
  }
}
