import type { AnyAlert } from '../../core/build-alert.js';
import type { QueuedEmail } from '../../core/email-plan.js';
import type { EmailQueueEntry, SentEmail } from '../store.js';
import type { PostgresDatabase } from './postgres-database.js';

/** Sent rows are kept this long: long enough that an alert redelivered after a crash finds it already mailed. */
const KEEP_SENT_MS = 30 * 24 * 3_600_000;

/** The email queue: each alert once per route, kept after it is sent so a redelivered alert is never mailed twice. */
export class PostgresEmailQueueRepository {
  readonly #db: PostgresDatabase;

  constructor(db: PostgresDatabase) {
    this.#db = db;
  }

  /** Queues entries in one statement; an (alert, route) already queued, sent or not, is left as it is. */
  async queue(entries: readonly EmailQueueEntry[], atMs: number): Promise<number> {
    if (entries.length === 0) return 0;
    const result = await this.#db.query(
      `INSERT INTO email_queue (alert_id, route, alert, queued_ms)
       SELECT a, r, j, $4 FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(a, r, j, n) ORDER BY n
       ON CONFLICT (alert_id, route) DO NOTHING`,
      [entries.map((e) => e.alertId), entries.map((e) => e.route), entries.map((e) => JSON.stringify(e.alert)), atMs],
    );
    return result.rowCount ?? 0;
  }

  async pending(limit: number): Promise<readonly QueuedEmail[]> {
    const { rows } = await this.#db.query<{ seq: string; alert_id: string; route: string; alert: string; queued_ms: string }>(
      'SELECT seq, alert_id, route, alert, queued_ms FROM email_queue WHERE sent_mail IS NULL ORDER BY seq LIMIT $1',
      [limit],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      alertId: r.alert_id,
      route: r.route,
      alert: JSON.parse(r.alert) as AnyAlert,
      queuedAtMs: Number(r.queued_ms),
    }));
  }

  /** Marks a message's alerts sent and records the message, in one transaction; prunes old rows. */
  async recordSent(mail: SentEmail): Promise<void> {
    await this.#db.transaction(async (q) => {
      await q.query('UPDATE email_queue SET sent_mail = $1 WHERE seq = ANY($2::bigint[]) AND sent_mail IS NULL', [mail.id, [...mail.seqs]]);
      await q.query('INSERT INTO email_sent (mail_id, sent_ms, alerts, outcome) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
        mail.id,
        mail.sentAtMs,
        mail.seqs.length,
        mail.outcome,
      ]);
      await q.query('DELETE FROM email_queue WHERE sent_mail IS NOT NULL AND queued_ms < $1', [mail.sentAtMs - KEEP_SENT_MS]);
      await q.query('DELETE FROM email_sent WHERE sent_ms < $1', [mail.sentAtMs - KEEP_SENT_MS]);
    });
  }

  async sentSince(sinceMs: number): Promise<number> {
    const { rows } = await this.#db.query<{ n: string }>("SELECT count(*) AS n FROM email_sent WHERE sent_ms >= $1 AND outcome = 'sent'", [sinceMs]);
    return Number(rows[0]?.n ?? 0);
  }
}
