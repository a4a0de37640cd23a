import type { CheckSet } from './check-set.js';
import type { FileState } from './file-state.js';
import { INODE_ATTRIBUTE_FIELDS, type InodeAttributeField } from './inode-attributes.js';

/**
 * Attribute names as they appear in `syscheck.changed_attributes`: Wazuh's names (`attributes` is its name for
 * file attributes, here the inode flags), plus `type`, `link_target`, `link_count` and the security attributes.
 */
export const ATTRIBUTES = [
  'type',
  'size',
  'permission',
  'uid',
  'user_name',
  'gid',
  'group_name',
  'mtime',
  'inode',
  'md5',
  'sha1',
  'sha256',
  'link_target',
  'link_count',
  'capabilities',
  'acl',
  'default_acl',
  'selinux',
  'xattrs',
  'attributes',
  'ctime',
] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

/**
 * Lists the attributes that differ between two states of the same path, in {@link ATTRIBUTES} order, looking only
 * at what `checks` asks for. A digest is compared only when both states have it: a file that could not be read
 * this time is not reported as changed content. A directory's size and mtime move whenever its entries do, and
 * those entries report themselves, so they are not compared for directories (nor is a directory's link count,
 * which moves with its subdirectories). Inode attributes are compared field by field where both states have the
 * field: a state read before the field existed, or with its check off, says nothing about it. A file over
 * `max_file_size` (its content never read) whose ctime alone moved is reported as `ctime`.
 */
export function compareFileState(before: FileState, after: FileState, checks: CheckSet): readonly Attribute[] {
  const changed: Attribute[] = [];
  const isDir = before.type === 'directory' && after.type === 'directory';
  if (before.type !== after.type) changed.push('type');
  if (checks.size && !isDir && before.size !== after.size) changed.push('size');
  if (checks.perm && before.mode !== after.mode) changed.push('permission');
  if (checks.owner) {
    if (before.uid !== after.uid) changed.push('uid');
    if (namesDiffer(before.uname, after.uname)) changed.push('user_name');
  }
  if (checks.group) {
    if (before.gid !== after.gid) changed.push('gid');
    if (namesDiffer(before.gname, after.gname)) changed.push('group_name');
  }
  if (checks.mtime && !isDir && before.mtimeNs !== after.mtimeNs) changed.push('mtime');
  if (checks.inode && before.inode !== after.inode) changed.push('inode');
  for (const algorithm of ['md5', 'sha1', 'sha256'] as const) {
    if (!checks[algorithm]) continue;
    const a = before.hashes[algorithm];
    const b = after.hashes[algorithm];
    if (a !== undefined && b !== undefined && a !== b) changed.push(algorithm);
  }
  if (before.type === 'symlink' && after.type === 'symlink' && !sameBytes(before.linkTarget, after.linkTarget)) {
    changed.push('link_target');
  }
  if (checks.linkCount && !isDir && before.nlink !== after.nlink) changed.push('link_count');
  const was = before.inodeAttributes;
  const now = after.inodeAttributes;
  if (was !== undefined && now !== undefined) {
    for (const field of INODE_ATTRIBUTE_FIELDS) {
      if (was[field] !== undefined && now[field] !== undefined && was[field] !== now[field]) changed.push(ATTRIBUTE_OF_FIELD[field]);
    }
  }
  if (
    changed.length === 0 &&
    after.type === 'file' &&
    before.ctimeNs !== after.ctimeNs &&
    !contentCompared(before, after, checks) &&
    checkedByAttributesOnly(after)
  ) {
    // Content rewritten in place with size and mtime put back moves only ctime: for a file over max_file_size,
    // whose content is never read, that is all there is to see.
    changed.push('ctime');
  }
  return changed;
}

/** The alert attribute of each inode attribute field. */
export const ATTRIBUTE_OF_FIELD: Readonly<Record<InodeAttributeField, Attribute>> = {
  capabilities: 'capabilities',
  acl: 'acl',
  defaultAcl: 'default_acl',
  selinux: 'selinux',
  xattrs: 'xattrs',
  flags: 'attributes',
};

/** True for a file over `max_file_size`: its content is not read, only its attributes are compared. */
export function checkedByAttributesOnly(state: FileState): boolean {
  return state.issues.some((i) => i.code === 'too-large');
}

/** True when both states hold a digest the checks ask for, so a content change would have shown. */
function contentCompared(before: FileState, after: FileState, checks: CheckSet): boolean {
  return (['md5', 'sha1', 'sha256'] as const).some((a) => checks[a] && before.hashes[a] !== undefined && after.hashes[a] !== undefined);
}

function namesDiffer(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a !== b;
}

function sameBytes(a: Buffer | undefined, b: Buffer | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.equals(b);
}
