import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/**
 * The identity a host's own package database is scoped to: its machine id (`etc/machine-id`, else
 * `var/lib/dbus/machine-id`, under `root`), not its hostname, so renaming a host does not turn every later
 * package update into "unknown". The id is hashed with a fixed prefix, as machine-id(5) asks (it is shown by
 * `hashdb stats`). A root without a machine id falls back to the hostname. `CUSTOS_MACHINE_ID_FILE` names the
 * file for `/` (tests, where several hosts share one machine).
 */
export function hostIdentity(root = '/'): string {
  const override = root === '/' ? process.env.CUSTOS_MACHINE_ID_FILE : undefined;
  const candidates = override === undefined ? [join(root, 'etc/machine-id'), join(root, 'var/lib/dbus/machine-id')] : [override];
  for (const file of candidates) {
    let id: string;
    try {
      id = readFileSync(file, 'utf8').trim();
    } catch {
      continue;
    }
    if (/^[0-9a-f]{32}$/i.test(id)) return `machine:${createHash('sha256').update(`custos-host:${id.toLowerCase()}`).digest('hex').slice(0, 32)}`;
  }
  return hostname();
}
