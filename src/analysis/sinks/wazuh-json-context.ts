import type { EmailConfig } from '../../core/config/email-config.js';
import { compileEmailRouter } from '../../core/email-route.js';
import type { WazuhJsonContext } from '../../core/wazuh-alert-json.js';
import { ossecLocation } from './format-ossec-alert.js';

/**
 * The context of `alerts.json` lines: `manager.name` (the configured name, else this host's name) and `rule.mail`,
 * decided by the same email routing the email sink uses (false when email notification is off), in the process's
 * local time zone, as Wazuh writes its times.
 */
export function wazuhJsonContext(managerName: string, email: EmailConfig | undefined, hostname: string): WazuhJsonContext {
  const route = email === undefined ? undefined : compileEmailRouter(email);
  return {
    managerName,
    mailed: (alert) => route !== undefined && route(alert, ossecLocation(alert, hostname)).some((r) => r.to.length > 0),
    offsetMinutes: (ms) => -new Date(ms).getTimezoneOffset(),
  };
}
