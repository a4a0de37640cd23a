/**
 * Decodes a POSIX ACL extended attribute (`system.posix_acl_access` or `system.posix_acl_default`, the kernel's
 * `posix_acl_xattr` format, little-endian) into `getfacl -n`'s text, one entry per comma: `user::rw-,
 * user:65534:rw-,group::r--,mask::rw-,other::r--`. Ids stay numeric: the names are the host's, and the baseline
 * must not change when a user is renamed.
 */

const VERSION = 2;
const HEADER = 4;
const ENTRY = 8;
const TAGS: ReadonlyMap<number, { readonly name: string; readonly hasId: boolean }> = new Map([
  [0x01, { name: 'user', hasId: false }],
  [0x02, { name: 'user', hasId: true }],
  [0x04, { name: 'group', hasId: false }],
  [0x08, { name: 'group', hasId: true }],
  [0x10, { name: 'mask', hasId: false }],
  [0x20, { name: 'other', hasId: false }],
]);

/** The ACL text of an attribute value; a malformed value is shown as its hex bytes. */
export function decodePosixAcl(value: Buffer): string {
  if (value.length < HEADER || (value.length - HEADER) % ENTRY !== 0 || value.readUInt32LE(0) !== VERSION) {
    return `invalid:${value.toString('hex')}`;
  }
  const entries: string[] = [];
  for (let at = HEADER; at < value.length; at += ENTRY) {
    const tag = TAGS.get(value.readUInt16LE(at));
    if (tag === undefined) return `invalid:${value.toString('hex')}`;
    const perm = value.readUInt16LE(at + 2);
    const rwx = `${perm & 4 ? 'r' : '-'}${perm & 2 ? 'w' : '-'}${perm & 1 ? 'x' : '-'}`;
    const id = tag.hasId ? String(value.readUInt32LE(at + 4)) : '';
    entries.push(`${tag.name}:${id}:${rwx}`);
  }
  return entries.join(',');
}
