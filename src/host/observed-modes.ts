import { createHash } from 'node:crypto';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownHashRow } from '../core/package-state.js';

/** Mode bits and owners that need the file's MD5 to match before they are recorded as what the package ships. */
const RISKY_BITS = 0o7022;

/**
 * The mode and owner a host's dpkg database does not carry (md5sums have none), taken from the files themselves
 * at import: dpkg installs a file with the mode and owner of its .deb's tar header, so right after dpkg unpacked
 * it (the hook imports then) the file on disk shows what the package declares. Recorded as `observed` (a claim of
 * the host, like the MD5s), and only for an MD5 row:
 * - a plain file (no setuid, setgid or sticky bit, no group or other write, owned by root:root) is recorded as it
 *   is: if its content was swapped, the row's MD5 does not match the file and the mode says nothing harmful;
 * - anything else only when the file's MD5 is the row's, so a setuid bit or an owner planted on other content is
 *   never taken as the package's.
 * Paths that are missing, not regular files, or unreadable get no mode: a setuid bit on them later alerts as
 * undeclared. A .deb imported for the same package version declares the mode from its tar header and outranks this.
 */
export function withObservedModes(root: string, rows: readonly KnownHashRow[]): KnownHashRow[] {
  return rows.map((row) => {
    if (row.path === undefined || row.digest.length !== 16 || row.bad === true) return row;
    const file = join(root, row.path.toString('latin1'));
    try {
      const st = lstatSync(file);
      if (!st.isFile()) return row;
      const mode = st.mode & 0o7777;
      const risky = (mode & RISKY_BITS) !== 0 || st.uid !== 0 || st.gid !== 0;
      if (risky && !createHash('md5').update(readFileSync(file)).digest().equals(row.digest)) return row;
      return { ...row, declared: { mode, uid: st.uid, gid: st.gid, observed: true } };
    } catch {
      return row;
    }
  });
}
