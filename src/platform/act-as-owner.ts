import { statSync } from 'node:fs';

/**
 * Run as root on a data directory another user owns (the manager's service user), becomes that user for the rest
 * of the process, so the files written (the SQLite database, its journal, the PKI) stay readable and writable by
 * the service. Does nothing when not root, when the directory does not exist yet, or when root owns it.
 */
export function actAsOwnerOf(dir: string): void {
  if (process.getuid?.() !== 0) return;
  let owner: { uid: number; gid: number };
  try {
    owner = statSync(dir);
  } catch {
    return;
  }
  if (owner.uid === 0) return;
  process.setgroups?.([owner.gid]);
  process.setgid?.(owner.gid);
  process.setuid?.(owner.uid);
}
