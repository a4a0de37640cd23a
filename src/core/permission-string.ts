/**
 * Renders permission bits as `ls` does (`rwxr-sr-t`): nine characters, with setuid, setgid and sticky shown as
 * `s`/`S` and `t`/`T`. This is the form OSSEC prints in "Permissions changed from ..." and Wazuh in `perm_after`.
 */
export function permissionString(mode: number): string {
  const bit = (mask: number, ch: string): string => ((mode & mask) !== 0 ? ch : '-');
  const special = (execMask: number, specialMask: number, lower: string, upper: string): string => {
    const exec = (mode & execMask) !== 0;
    if ((mode & specialMask) === 0) return exec ? 'x' : '-';
    return exec ? lower : upper;
  };
  return (
    bit(0o400, 'r') +
    bit(0o200, 'w') +
    special(0o100, 0o4000, 's', 'S') +
    bit(0o040, 'r') +
    bit(0o020, 'w') +
    special(0o010, 0o2000, 's', 'S') +
    bit(0o004, 'r') +
    bit(0o002, 'w') +
    special(0o001, 0o1000, 't', 'T')
  );
}
