import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Maps numeric owners to names, as `ls -l` shows them. */
export interface UserNames {
  user(uid: number): string | undefined;
  group(gid: number): string | undefined;
}

/**
 * Reads user and group names from `passwd` and `group` under `rootDir` (`/` for this host; a mounted image's own
 * files for `--root`). Ids without an entry (and NSS-only users) have no name rather than a guessed one.
 */
export function readUserNames(rootDir = '/'): UserNames {
  const users = parseIdFile(readOptional(join(rootDir, 'etc/passwd')));
  const groups = parseIdFile(readOptional(join(rootDir, 'etc/group')));
  return { user: (uid) => users.get(uid), group: (gid) => groups.get(gid) };
}

/** Parses `name:x:id:...` lines; the first name for an id wins, as getpwuid(3) returns it. */
export function parseIdFile(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (name === undefined || id === undefined || name === '' || !/^\d+$/.test(id)) continue;
    const n = Number(id);
    if (!names.has(n)) names.set(n, name);
  }
  return names;
}

function readOptional(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
