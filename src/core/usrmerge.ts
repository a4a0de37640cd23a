/**
 * Debian's merged /usr: `/bin`, `/sbin` and `/lib*` are symlinks into `/usr`, but bookworm packages still list
 * `bin/bash`, so the same file has two names. The FIM sees `/usr/bin/bash`; dpkg says `/bin/bash`.
 */
const MERGED_DIRS = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'] as const;

/** The top-level directories that merged /usr turns into symlinks. */
export const USRMERGE_DIRS: readonly string[] = MERGED_DIRS;

/** The `/usr` name of a path under a merged directory (`/bin/ls` → `/usr/bin/ls`), or the path itself. */
export function usrCanonical(path: Buffer): Buffer {
  for (const dir of MERGED_DIRS) {
    const prefix = `/${dir}`;
    if (
      path.length >= prefix.length &&
      path.subarray(0, prefix.length).toString('latin1') === prefix &&
      (path.length === prefix.length || path[prefix.length] === 0x2f)
    ) {
      return Buffer.concat([Buffer.from('/usr'), path]);
    }
  }
  return path;
}

/** The other name of a path on a merged-/usr system, if it has one (`/usr/bin/ls` ↔ `/bin/ls`). */
export function usrAlias(path: Buffer): Buffer | undefined {
  const canonical = usrCanonical(path);
  if (!canonical.equals(path)) return canonical;
  for (const dir of MERGED_DIRS) {
    const prefix = `/usr/${dir}`;
    if (
      path.length >= prefix.length &&
      path.subarray(0, prefix.length).toString('latin1') === prefix &&
      (path.length === prefix.length || path[prefix.length] === 0x2f)
    ) {
      return path.subarray(4);
    }
  }
  return undefined;
}
