import { ATTRIBUTE_OF_FIELD, type Attribute } from './compare-file-state.js';
import type { InodeAttributeField } from './inode-attributes.js';
import type { FileChange } from './file-change.js';
import type { FileState } from './file-state.js';
import { displayPath } from './path-bytes.js';
import { permissionString } from './permission-string.js';
import { isoFromNs } from './time-ns.js';

/**
 * Builds the alert text OSSEC puts in `full_log`, line for line, because users' local rules `<match>` against it:
 * "Integrity checksum changed for: '…'" then one line per changed attribute (size, permissions, ownership, group,
 * then the old/new digests), "File '…' was deleted. Unable to retrieve checksum." and "New file '…' added to the
 * file system." with the new digests. Attributes OSSEC never had (type, mtime, inode, link target) use Wazuh's
 * wording, after OSSEC's lines so existing patterns keep matching. `path` is the displayed path, when the caller
 * has it already.
 */
export function buildFullLog(change: FileChange, path = displayPath(change.path)): string {
  switch (change.kind) {
    case 'deleted':
      return `File '${path}' was deleted. Unable to retrieve checksum.`;
    case 'added':
      return newDigestLines([`New file '${path}' added to the file system.`], change.after).join('\n');
    case 'modified':
      return modifiedLines([`Integrity checksum changed for: '${path}'`], change.before, change.after, change.changedAttributes).join('\n');
  }
}

// Both append to `lines` (the header) and return it: no second array to spread per alert.
function newDigestLines(lines: string[], after: FileState): string[] {
  if (after.hashes.sha1 !== undefined) lines.push(`New sha1sum is : '${after.hashes.sha1}'`);
  if (after.hashes.md5 !== undefined) lines.push(`New md5sum is : '${after.hashes.md5}'`);
  if (after.hashes.sha256 !== undefined) lines.push(`New sha256sum is : '${after.hashes.sha256}'`);
  return lines;
}

function modifiedLines(lines: string[], before: FileState, after: FileState, changed: readonly Attribute[]): string[] {
  const has = (a: Attribute): boolean => changed.includes(a);
  if (has('size')) lines.push(`Size changed from '${before.size}' to '${after.size}'`);
  if (has('permission')) {
    lines.push(`Permissions changed from '${permissionString(before.mode)}' to '${permissionString(after.mode)}'`);
  }
  if (has('uid')) lines.push(`Ownership was '${before.uid}', now it is '${after.uid}'`);
  if (has('user_name')) lines.push(`User name was '${before.uname ?? ''}', now it is '${after.uname ?? ''}'`);
  if (has('gid')) lines.push(`Group ownership was '${before.gid}', now it is '${after.gid}'`);
  if (has('group_name')) lines.push(`Group name was '${before.gname ?? ''}', now it is '${after.gname ?? ''}'`);
  for (const algorithm of ['md5', 'sha1', 'sha256'] as const) {
    if (!has(algorithm)) continue;
    lines.push(`Old ${algorithm}sum was: '${before.hashes[algorithm] ?? ''}'`);
    lines.push(`New ${algorithm}sum is : '${after.hashes[algorithm] ?? ''}'`);
  }
  if (has('type')) {
    lines.push(`Type changed from '${before.type}' to '${after.type}'`);
    // Another kind of entry took the path (a FIFO or a link replaced by a file): there is no old digest to put
    // beside the new one, so no digest line would show, yet the new content is what the reader must see.
    for (const algorithm of ['sha1', 'md5', 'sha256'] as const) {
      const digest = after.hashes[algorithm];
      if (digest !== undefined && before.hashes[algorithm] === undefined) lines.push(`New ${algorithm}sum is : '${digest}'`);
    }
  }
  if (has('mtime')) {
    lines.push(`Old modification time was: '${isoFromNs(before.mtimeNs)}', now it is '${isoFromNs(after.mtimeNs)}'`);
  }
  if (has('inode')) lines.push(`Old inode was: '${before.inode}', now it is '${after.inode}'`);
  // Also when a link took the place of another kind of entry, or gave it up: the target is the link's content.
  if (has('link_target') || (has('type') && (before.type === 'symlink' || after.type === 'symlink'))) {
    const from = before.linkTarget === undefined ? '' : displayPath(before.linkTarget);
    const to = after.linkTarget === undefined ? '' : displayPath(after.linkTarget);
    lines.push(`Symbolic link target changed from '${from}' to '${to}'`);
  }
  if (has('ctime')) {
    lines.push(
      `Inode change time changed from '${isoFromNs(before.ctimeNs)}' to '${isoFromNs(after.ctimeNs)}' with nothing else seen to change: the file is over max_file_size, its content is not checked`,
    );
  }
  if (has('link_count')) lines.push(`Hard link count changed from '${before.nlink}' to '${after.nlink}'`);
  for (const [field, label] of INODE_ATTRIBUTE_LABELS) {
    if (!has(ATTRIBUTE_OF_FIELD[field])) continue;
    lines.push(`${label} changed from '${before.inodeAttributes?.[field] ?? ''}' to '${after.inodeAttributes?.[field] ?? ''}'`);
  }
  return lines;
}

const INODE_ATTRIBUTE_LABELS: readonly (readonly [InodeAttributeField, string])[] = [
  ['capabilities', 'Capabilities'],
  ['acl', 'ACL'],
  ['defaultAcl', 'Default ACL'],
  ['selinux', 'SELinux label'],
  ['xattrs', 'Extended attributes'],
  ['flags', 'File attributes'],
];
