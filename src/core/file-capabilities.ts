/**
 * Decodes a `security.capability` extended attribute (the kernel's `vfs_cap_data`, little-endian) into the text
 * `getcap` prints: capability names grouped by their flags, e.g. `cap_net_raw,cap_setuid=ep`.
 */

/** Capability names by number, as in `<linux/capability.h>`; newer numbers print as `cap_N`. */
const CAPABILITY_NAMES = [
  'chown',
  'dac_override',
  'dac_read_search',
  'fowner',
  'fsetid',
  'kill',
  'setgid',
  'setuid',
  'setpcap',
  'linux_immutable',
  'net_bind_service',
  'net_broadcast',
  'net_admin',
  'net_raw',
  'ipc_lock',
  'ipc_owner',
  'sys_module',
  'sys_rawio',
  'sys_chroot',
  'sys_ptrace',
  'sys_pacct',
  'sys_admin',
  'sys_boot',
  'sys_nice',
  'sys_resource',
  'sys_time',
  'sys_tty_config',
  'mknod',
  'lease',
  'audit_write',
  'audit_control',
  'setfcap',
  'mac_override',
  'mac_admin',
  'syslog',
  'wake_alarm',
  'block_suspend',
  'audit_read',
  'perfmon',
  'bpf',
  'checkpoint_restore',
] as const;

const REVISION_MASK = 0xff000000;
const REVISION_1 = 0x01000000;
const REVISION_2 = 0x02000000;
const REVISION_3 = 0x03000000;
const FLAG_EFFECTIVE = 0x000001;

/**
 * The capability text of an attribute value. A value the kernel would not accept is shown as its hex bytes, so
 * it still compares and still shows in an alert.
 */
export function decodeCapabilities(value: Buffer): string {
  if (value.length < 4) return `invalid:${value.toString('hex')}`;
  const magic = value.readUInt32LE(0);
  const revision = (magic & REVISION_MASK) >>> 0;
  const words = revision === REVISION_1 ? 1 : revision === REVISION_2 || revision === REVISION_3 ? 2 : 0;
  const expected = 4 + words * 8 + (revision === REVISION_3 ? 4 : 0);
  if (words === 0 || value.length !== expected) return `invalid:${value.toString('hex')}`;
  const effective = (magic & FLAG_EFFECTIVE) !== 0;
  const byFlags = new Map<string, string[]>();
  for (let word = 0; word < words; word++) {
    const permitted = value.readUInt32LE(4 + word * 8);
    const inheritable = value.readUInt32LE(8 + word * 8);
    for (let bit = 0; bit < 32; bit++) {
      const p = (permitted >>> bit) & 1;
      const i = (inheritable >>> bit) & 1;
      if (p === 0 && i === 0) continue;
      const flags = `${effective ? 'e' : ''}${i === 1 ? 'i' : ''}${p === 1 ? 'p' : ''}`;
      const number = word * 32 + bit;
      const name = `cap_${CAPABILITY_NAMES[number] ?? String(number)}`;
      const list = byFlags.get(flags) ?? [];
      list.push(name);
      byFlags.set(flags, list);
    }
  }
  const groups = [...byFlags.entries()].map(([flags, names]) => `${names.join(',')}=${flags}`);
  const text = groups.length === 0 ? '=' : groups.join(' ');
  return revision === REVISION_3 ? `${text} [rootid=${value.readUInt32LE(4 + words * 8)}]` : text;
}
