import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * True while a dpkg run holds its lock under ROOT (`var/lib/dpkg/lock` or apt's `lock-frontend`): the kernel's
 * table of file locks (`/proc/locks`) lists the inode a process has locked. While it does, files are being
 * unpacked and the package database is not yet what they will be explained by.
 */
export function dpkgBusy(root = '/'): boolean {
  const inodes = new Set<string>();
  for (const name of ['lock', 'lock-frontend']) {
    const st = statSync(join(root, 'var/lib/dpkg', name), { throwIfNoEntry: false });
    if (st !== undefined) inodes.add(String(st.ino));
  }
  if (inodes.size === 0) return false;
  let table: string;
  try {
    table = readFileSync('/proc/locks', 'latin1');
  } catch {
    return false;
  }
  // "1: POSIX  ADVISORY  WRITE 1234 fd:01:131090 0 EOF": the sixth field is major:minor:inode.
  return table.split('\n').some((line) => {
    const id = line.trim().split(/\s+/)[5];
    return id !== undefined && inodes.has(id.split(':')[2] ?? '');
  });
}
