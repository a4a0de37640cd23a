import { randomBytes } from 'node:crypto';

/**
 * A new alert id in Wazuh's and OSSEC's shape, `<epoch seconds>.<offset>`, digits on both sides, because OSSEC's
 * own parsers (`** Alert ([0-9]+).([0-9]+):` in contrib/ossec2mysql.pl, ossectop.pl) and Wazuh pipelines read it
 * so. OSSEC's offset is the alert's byte offset in its log; Custos writes one alert to several sinks, possibly
 * again after a crash, so the offset is a random 48-bit number instead: unique across runs and managers, and
 * stable across redelivery because the id is stored with the alert before any sink sees it.
 */
export function newAlertId(now: Date): string {
  return `${Math.floor(now.getTime() / 1000)}.${randomBytes(6).readUIntBE(0, 6)}`;
}
