import { configIssue } from '../custos-error.js';
import { childrenOf, tagOf, textOf, type XmlNode } from '../xml-tree.js';
import type { Collected } from './ossec-collected.js';

/** `<global>` tags that configure email, and their key in the `email` section of `custos.yml`. */
const GLOBAL_EMAIL_TAGS: Readonly<Record<string, string>> = {
  email_notification: 'notification',
  email_from: 'from',
  email_reply_to: 'reply_to',
  smtp_server: 'smtp_server',
  email_maxperhour: 'max_per_hour',
  // Custos's own, for what OSSEC leaves to a local relay: STARTTLS policy and authentication.
  smtp_tls: 'smtp_tls',
  smtp_ca: 'smtp_ca',
  smtp_user: 'smtp_user',
  smtp_password_file: 'smtp_password_file',
  email_group_wait: 'group_wait',
  email_max_delay: 'max_delay',
  email_retry_delay: 'retry_delay',
};

/** `<global>` names of OSSEC's md5 allowlist: OSSEC's, its later spelling, and the name the article uses. */
const MD5_ALLOWLIST_TAGS = new Set(['md5_whitelist', 'md5_allowlist', 'md5db']);

/** `<email_alerts>` tags with a single value. */
const ROUTE_SCALARS = new Set(['level', 'event_location']);
/** `<email_alerts>` flags, written as empty elements (`<do_not_delay />`). */
const ROUTE_FLAGS = new Set(['do_not_delay', 'do_not_group']);

/**
 * Reads OSSEC's email settings into the `email` section: `<global>` (`email_notification`, `email_to`,
 * `email_from`, `smtp_server`, `email_maxperhour`, `email_reply_to`), `<alerts><email_alert_level>` and each
 * granular `<email_alerts>` block (`tag` is the section: `global`, `alerts` or `email_alerts`). Every other tag
 * of these sections is a warning naming it, with its line.
 */
export function readEmailSection(section: XmlNode, tag: string, c: Collected, file: string, lineOf: (n: XmlNode) => number | undefined): void {
  const email = (c.object.email ??= {}) as Record<string, unknown>;
  if (tag === 'email_alerts') {
    readRoute(section, email, c, file, lineOf);
    return;
  }
  for (const child of childrenOf(section, tag)) {
    const name = tagOf(child);
    if (name === undefined) continue;
    const line = lineOf(child) ?? 0;
    const value = textOf(child, name);
    const key = tag === 'global' ? GLOBAL_EMAIL_TAGS[name] : name === 'email_alert_level' ? 'alert_level' : undefined;
    if (tag === 'alerts' && name === 'full_log') {
      // Custos's own: Wazuh users whose rules match Wazuh's full_log wording say so here.
      const alerts = (c.object.alerts ??= {}) as Record<string, unknown>;
      alerts.full_log = value;
      c.lines.set('alerts.full_log', line);
    } else if (tag === 'global' && MD5_ALLOWLIST_TAGS.has(name)) {
      // OSSEC's md5 allowlist: not email, but it lives in <global>.
      const knownHashes = (c.object.known_hashes ??= {}) as Record<string, unknown>;
      knownHashes.md5_allowlist = value;
      c.lines.set('known_hashes.md5_allowlist', line);
    } else if (tag === 'global' && name === 'email_to') {
      const to = (email.to ??= []) as string[];
      c.lines.set(`email.to[${to.length}]`, line);
      if (to.length === 0) c.lines.set('email.to', line);
      to.push(value);
    } else if (key !== undefined) {
      email[key] = value;
      c.lines.set(`email.${key}`, line);
      // Cross-field checks (no sender, no server) are reported against the switch that needs them.
      if (key === 'notification') c.lines.set('email', line);
    } else {
      c.warnings.push(configIssue(file, line, `${tag}.${name}`, `<${tag}> option <${name}> is not used by Custos, ignored`));
    }
  }
}

/** One `<email_alerts>` block: recipients and the conditions an alert must meet to go to them. */
function readRoute(section: XmlNode, email: Record<string, unknown>, c: Collected, file: string, lineOf: (n: XmlNode) => number | undefined): void {
  const routes = (email.alerts ??= []) as Record<string, unknown>[];
  const key = `email.alerts[${routes.length}]`;
  const route: Record<string, unknown> = {};
  c.lines.set(key, lineOf(section) ?? 0);
  if (routes.length === 0) c.lines.set('email.alerts', lineOf(section) ?? 0);
  for (const child of childrenOf(section, 'email_alerts')) {
    const name = tagOf(child);
    if (name === undefined) continue;
    const line = lineOf(child) ?? 0;
    const value = textOf(child, name);
    if (name === 'email_to' || name === 'group' || name === 'rule_id') {
      const field = name === 'email_to' ? 'to' : name;
      const values = (route[field] ??= []) as string[];
      c.lines.set(`${key}.${field}`, line);
      // OSSEC separates several rule ids with commas, several groups with `|`.
      for (const part of name === 'email_to'
        ? [value]
        : value
            .split(/[,|]/)
            .map((v) => v.trim())
            .filter((v) => v !== '')) {
        c.lines.set(`${key}.${field}[${values.length}]`, line);
        values.push(part);
      }
    } else if (ROUTE_SCALARS.has(name)) {
      route[name] = value;
      c.lines.set(`${key}.${name}`, line);
    } else if (ROUTE_FLAGS.has(name)) {
      route[name] = value === '' ? 'yes' : value;
      c.lines.set(`${key}.${name}`, line);
    } else if (name === 'format' && (value === '' || value === 'default')) {
      // The default format is the only one Custos writes.
    } else {
      c.warnings.push(
        configIssue(
          file,
          line,
          `email_alerts.${name}`,
          `<email_alerts> option <${name}>${name === 'format' ? ` "${value}"` : ''} is not supported by Custos, ignored`,
        ),
      );
    }
  }
  routes.push(route);
}
