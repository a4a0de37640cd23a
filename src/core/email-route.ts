import { ruleGroups, type AnyAlert } from './build-alert.js';
import type { EmailConfig } from './config/email-config.js';
import { compileOsMatch } from './os-match.js';

/** Who gets an alert, and whether it may wait for a burst to end (delay) and share a message (group). */
export interface EmailRoute {
  /** Sorted, without repeats. */
  readonly to: readonly string[];
  readonly delay: boolean;
  readonly group: boolean;
}

/** Decides the email routes of an alert, given where it came from (`host->syscheck`). */
export type EmailRouter = (alert: AnyAlert, location: string) => readonly EmailRoute[];

/**
 * Compiles the email settings into a router. An alert at or above `email_alert_level` goes to `email_to`; each
 * granular rule (`<email_alerts>`) whose conditions all hold adds its recipients, whatever the global level, as in
 * OSSEC. A recipient named by several matching rules gets the alert once; `do_not_delay` and `do_not_group` of any
 * of them apply to that recipient. Recipients with the same flags share one route (one message).
 */
export function compileEmailRouter(config: EmailConfig): EmailRouter {
  const rules = config.routes.map((rule) => ({ rule, location: rule.eventLocation === undefined ? undefined : compileOsMatch(rule.eventLocation) }));
  return (alert, location) => {
    // Keyed case-insensitively so one mailbox is not mailed twice; the address is sent as first written.
    const flags = new Map<string, { address: string; delay: boolean; group: boolean }>();
    const add = (to: readonly string[], delay: boolean, group: boolean): void => {
      for (const address of to) {
        const key = address.toLowerCase();
        const had = flags.get(key);
        flags.set(key, { address: had?.address ?? address, delay: (had?.delay ?? true) && delay, group: (had?.group ?? true) && group });
      }
    };
    // A rule's <options>no_email_alert mails it to no one; alert_by_email mails it whatever its level (OSSEC).
    if (alert.rule.email === 'never') return [];
    if (alert.rule.level >= config.alertLevel || alert.rule.email === 'always') add(config.to, true, true);
    for (const { rule, location: where } of rules) {
      if (rule.level !== undefined && alert.rule.level < rule.level) continue;
      if (rule.groups !== undefined && !rule.groups.some((g) => ruleGroups(alert.rule).includes(g))) continue;
      if (rule.ruleIds !== undefined && !rule.ruleIds.includes(Number(alert.rule.id))) continue;
      if (where !== undefined && !where.test(location)) continue;
      add(rule.to, !rule.doNotDelay, !rule.doNotGroup);
    }
    const routes = new Map<string, { to: string[]; delay: boolean; group: boolean }>();
    for (const [, f] of [...flags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const key = `${f.delay}/${f.group}`;
      const route = routes.get(key) ?? { to: [], delay: f.delay, group: f.group };
      route.to.push(f.address);
      routes.set(key, route);
    }
    return [...routes.values()];
  };
}

/** A route as stored with each queued alert; alerts with equal keys may share a message. */
export function routeKey(route: EmailRoute): string {
  return JSON.stringify({ to: route.to, delay: route.delay, group: route.group });
}

/** The route a stored key stands for. */
export function routeFromKey(key: string): EmailRoute {
  const parsed = JSON.parse(key) as EmailRoute;
  return { to: parsed.to, delay: parsed.delay, group: parsed.group };
}
