import { z } from 'zod';
import { parseDurationMs } from './units.js';

/** How the SMTP connection is protected. */
export const SMTP_TLS_MODES = ['auto', 'required', 'implicit', 'none'] as const;
/**
 * `auto`: STARTTLS when the server offers it (OSSEC's plain SMTP otherwise); `required`: refuse to send without
 * STARTTLS; `implicit`: TLS from the first byte (port 465); `none`: never TLS.
 */
export type SmtpTlsMode = (typeof SMTP_TLS_MODES)[number];

/** A granular `<email_alerts>` entry: extra recipients for the alerts it matches. */
export interface EmailRouteRule {
  readonly to: readonly string[];
  /** Minimum alert level (absent: any level). */
  readonly level?: number;
  /** The alert must be in one of these rule groups. */
  readonly groups?: readonly string[];
  /** The alert's rule must be one of these. */
  readonly ruleIds?: readonly number[];
  /** OSMatch pattern on the alert's location (`host->syscheck`, `(agent) any->syscheck`). */
  readonly eventLocation?: string;
  /** Send at once, without waiting to group a burst. */
  readonly doNotDelay: boolean;
  /** One message per alert. */
  readonly doNotGroup: boolean;
}

/** The email sink: OSSEC's `<global>` email options, `<alerts><email_alert_level>` and `<email_alerts>`. */
export interface EmailConfig {
  readonly to: readonly string[];
  readonly from: string;
  readonly replyTo?: string;
  readonly smtpHost: string;
  readonly smtpPort: number;
  readonly tls: SmtpTlsMode;
  /** PEM CA bundle the SMTP server's certificate must chain to (default: the system's). */
  readonly caFile?: string;
  readonly user?: string;
  /** File holding the SMTP password (kept out of the configuration, never logged). */
  readonly passwordFile?: string;
  /** Alerts at or above this level go to `to`. */
  readonly alertLevel: number;
  /** At most this many messages per clock hour; the rest wait for the next hour and go out grouped. */
  readonly maxPerHour: number;
  /** A burst is mailed once no new alert has come for this long (or once its first alert waited `maxDelayMs`). */
  readonly groupWaitMs: number;
  readonly maxDelayMs: number;
  /** First wait before retrying a failed delivery; it doubles up to 10 minutes. */
  readonly retryDelayMs: number;
  readonly routes: readonly EmailRouteRule[];
}

const yesNo = z.union([z.boolean(), z.enum(['yes', 'no'])], { error: 'expected yes/no (or true/false)' }).transform((v) => v === true || v === 'yes');

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === undefined) ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (e.g. 5s, 1m, 3600)` });
  return ms ?? 0;
});

// Deliberately plain: one @, no spaces or angle brackets (which would let a value inject headers).
const address = z.string().regex(/^[^\s@<>,;"]+@[^\s@<>,;"]+$/, 'expected an email address (user@domain)');
const addresses = z.union([address, z.array(address).min(1)]).transform((v) => (typeof v === 'string' ? [v] : v));
const level = z.coerce.number({ error: 'expected a level from 0 to 16' }).int().min(0).max(16);
const list = <T extends z.ZodType>(item: T) => z.union([item, z.array(item).min(1)]).transform((v) => (Array.isArray(v) ? v : [v]) as z.output<T>[]);

const route = z
  .object({
    to: addresses,
    level: level.optional(),
    group: list(z.string().min(1)).optional(),
    rule_id: list(z.coerce.number({ error: 'expected a rule id' }).int().min(1)).optional(),
    event_location: z.string().min(1).optional(),
    do_not_delay: yesNo.prefault(false),
    do_not_group: yesNo.prefault(false),
  })
  .strict();

/** The `email` section of `custos.yml` (snake_case, as in the file). */
export const emailSchema = z
  .object({
    notification: yesNo.prefault(false),
    to: addresses.optional(),
    from: address.optional(),
    reply_to: address.optional(),
    smtp_server: z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'expected HOST or HOST:PORT')
      .optional(),
    smtp_tls: z.enum(SMTP_TLS_MODES).prefault('auto'),
    smtp_ca: z.string().min(1).optional(),
    smtp_user: z.string().min(1).optional(),
    smtp_password_file: z.string().min(1).optional(),
    alert_level: level.prefault(7),
    max_per_hour: z.coerce.number({ error: 'expected a number of messages' }).int().min(1).max(9999).prefault(12),
    group_wait: duration.prefault('5s'),
    max_delay: duration.prefault('1m'),
    retry_delay: duration.prefault('10s'),
    alerts: z.array(route).prefault([]),
  })
  .strict()
  .superRefine(
    (e, ctx) => {
      if (e.notification !== true) return;
      // OSSEC refuses to start maild without these; so do we, naming each.
      if (e.to === undefined && e.alerts.length === 0)
        ctx.addIssue({ code: 'custom', path: ['to'], message: 'email notification is on but no recipient is given (email_to)' });
      if (e.from === undefined) ctx.addIssue({ code: 'custom', path: ['from'], message: 'email notification is on but no sender is given (email_from)' });
      if (e.smtp_server === undefined)
        ctx.addIssue({ code: 'custom', path: ['smtp_server'], message: 'email notification is on but no SMTP server is given (smtp_server)' });
      if (e.smtp_password_file !== undefined && e.smtp_user === undefined)
        ctx.addIssue({ code: 'custom', path: ['smtp_user'], message: 'smtp_password_file needs smtp_user' });
      // Run even when other keys are invalid, so every problem is reported at once (these checks only test presence).
    },
    { when: () => true },
  );

/** The validated `email` section. */
export type EmailSection = z.output<typeof emailSchema>;

/** The model of a validated `email` section; undefined when notification is off. `resolve` makes file names absolute. */
export function toEmailConfig(e: EmailSection, resolve: (file: string) => string): EmailConfig | undefined {
  if (!e.notification || e.from === undefined || e.smtp_server === undefined) return undefined;
  const portAt = e.smtp_server.lastIndexOf(':');
  const hasPort = portAt > e.smtp_server.lastIndexOf(']');
  const host = (hasPort ? e.smtp_server.slice(0, portAt) : e.smtp_server).replace(/^\[|\]$/g, '');
  const port = hasPort ? Number(e.smtp_server.slice(portAt + 1)) : e.smtp_tls === 'implicit' ? 465 : 25;
  return {
    to: e.to ?? [],
    from: e.from,
    ...(e.reply_to === undefined ? {} : { replyTo: e.reply_to }),
    smtpHost: host,
    smtpPort: port,
    tls: e.smtp_tls,
    ...(e.smtp_ca === undefined ? {} : { caFile: resolve(e.smtp_ca) }),
    ...(e.smtp_user === undefined ? {} : { user: e.smtp_user }),
    ...(e.smtp_password_file === undefined ? {} : { passwordFile: resolve(e.smtp_password_file) }),
    alertLevel: e.alert_level,
    maxPerHour: e.max_per_hour,
    groupWaitMs: e.group_wait,
    maxDelayMs: Math.max(e.max_delay, e.group_wait),
    retryDelayMs: Math.max(e.retry_delay, 100),
    routes: e.alerts.map((r) => ({
      to: r.to,
      ...(r.level === undefined ? {} : { level: r.level }),
      ...(r.group === undefined
        ? {}
        : {
            groups: r.group
              .flatMap((g) => g.split(/[|,]/))
              .map((g) => g.trim())
              .filter((g) => g !== ''),
          }),
      ...(r.rule_id === undefined ? {} : { ruleIds: r.rule_id }),
      ...(r.event_location === undefined ? {} : { eventLocation: r.event_location }),
      doNotDelay: r.do_not_delay,
      doNotGroup: r.do_not_group,
    })),
  };
}
