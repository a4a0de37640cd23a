import { readFileSync } from 'node:fs';
import { EmailAlertSink } from '../analysis/sinks/email-alert-sink.js';
import { createSmtpSender } from '../analysis/sinks/smtp-sender.js';
import type { SinkLog } from '../analysis/sinks/syslog-alert-sink.js';
import type { CustosConfig } from '../core/config/custos-config.js';
import { ConfigError } from '../core/custos-error.js';
import type { Store } from '../storage/store.js';

/**
 * The email sink the configuration asks for, or undefined when email notification is off. A CA or password file
 * that cannot be read is a configuration error naming the key, before anything is scanned or served.
 */
export function openEmailSink(config: CustosConfig, store: Store, hostname: string, log: SinkLog, background: boolean): EmailAlertSink | undefined {
  const email = config.email;
  if (email === undefined) return undefined;
  for (const [key, file] of [
    ['email.smtp_ca', email.caFile],
    ['email.smtp_password_file', email.passwordFile],
  ] as const) {
    if (file === undefined) continue;
    try {
      readFileSync(file);
    } catch (error) {
      throw new ConfigError([{ file, key, message: `cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
    }
  }
  return new EmailAlertSink({ store, config: email, sender: createSmtpSender(email), hostname, log, background });
}
