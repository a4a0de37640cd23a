import { randomBytes } from 'node:crypto';

/** A new alert id in Wazuh's shape: epoch seconds, a dot, and a random suffix that keeps ids unique across runs. */
export function newAlertId(now: Date): string {
  return `${Math.floor(now.getTime() / 1000)}.${randomBytes(5).toString('hex')}`;
}
