import { readFileSync } from 'node:fs';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { EmailConfig } from '../../core/config/email-config.js';

/** One message as the email sink hands it over. */
export interface OutgoingMail {
  readonly to: readonly string[];
  readonly subject: string;
  readonly text: string;
  /** Stable for the same alerts and recipients, so a receiver can drop a repeat. */
  readonly messageId: string;
}

/** Why a message did not go: `transient` is retried, `permanent` (a 5xx refusal of the message) is not. */
export interface SendFailure {
  readonly kind: 'transient' | 'permanent';
  readonly reason: string;
}

/** The server took the message, for all recipients or (`refused`) for some. */
export interface SendSuccess {
  readonly kind: 'sent';
  readonly refused: readonly string[];
}

/** Sends mail; resolves once the server has accepted the message or refused it. */
export interface MailSender {
  send(mail: OutgoingMail): Promise<SendSuccess | SendFailure>;
  close(): void;
}

/**
 * Sends through an SMTP server with nodemailer: STARTTLS when the server offers it (or required, or implicit TLS),
 * verified against the system's CAs or `smtp_ca`, and authentication when a user is configured. Timeouts are
 * short enough that a dead server never holds a delivery (or a shutdown) for minutes. The files it names are read
 * now (a missing one is said at once); nodemailer is loaded at the first message, so a check with nothing to mail
 * does not pay for it (~50 ms of start-up).
 */
export function createSmtpSender(config: EmailConfig): MailSender {
  const password = config.passwordFile === undefined ? undefined : readFileSync(config.passwordFile, 'utf8').replace(/\r?\n$/, '');
  const options: SMTPTransport.Options = {
    host: config.smtpHost,
    port: config.smtpPort,
    secure: config.tls === 'implicit',
    requireTLS: config.tls === 'required',
    ignoreTLS: config.tls === 'none',
    tls: { ...(config.caFile === undefined ? {} : { ca: readFileSync(config.caFile, 'utf8') }), minVersion: 'TLSv1.2' },
    ...(config.user === undefined ? {} : { auth: { user: config.user, pass: password ?? '' } }),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    // nodemailer would log message contents with `logger: true`; keep it off (alerts name sensitive files).
    logger: false,
  };
  let transport: Promise<Transporter> | undefined;
  return {
    async send(mail) {
      try {
        transport ??= import('nodemailer').then(({ createTransport }) => createTransport(options));
        const info = await (
          await transport
        ).sendMail({
          from: { name: 'Custos', address: config.from },
          to: [...mail.to],
          ...(config.replyTo === undefined ? {} : { replyTo: config.replyTo }),
          subject: mail.subject,
          text: mail.text,
          messageId: mail.messageId,
        });
        return { kind: 'sent', refused: (info.rejected as (string | { address: string })[]).map((r) => (typeof r === 'string' ? r : r.address)) };
      } catch (error) {
        return classify(error as Error & { code?: string; responseCode?: number });
      }
    },
    close() {
      void transport?.then((t) => t.close());
    },
  };
}

/** A message or its recipients refused with a 5xx code will be refused again; anything else may pass later. */
function classify(error: Error & { code?: string; responseCode?: number }): SendFailure {
  const permanent = (error.code === 'EENVELOPE' || error.code === 'EMESSAGE') && (error.responseCode ?? 0) >= 500;
  // nodemailer's messages carry the server's reply, never the password.
  return { kind: permanent ? 'permanent' : 'transient', reason: `${error.code ?? 'error'}: ${error.message}` };
}
