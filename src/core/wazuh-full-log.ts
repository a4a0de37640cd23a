import { ATTRIBUTE_OF_FIELD, type Attribute } from './compare-file-state.js';
import type { SyscheckMode } from './event-record.js';
import type { FileChange } from './file-change.js';
import type { FileState } from './file-state.js';
import type { InodeAttributeField } from './inode-attributes.js';
import { displayPath } from './path-bytes.js';
import { permissionString } from './permission-string.js';
import { isoFromNs } from './time-ns.js';

/**
 * Builds `full_log` in Wazuh 4.x's wording, for rules written against Wazuh's text: `File '<path>' <event>`, then
 * `Mode: <mode>`, for a modification `Changed attributes: <names>` and one line per change in Wazuh's order (size,
 * permissions, ownership, user name, group, group name, modification time in epoch seconds, inode, the old/new
 * digests, inode flags), each line ending in a newline as Wazuh's does. Attributes Wazuh does not check (type, link
 * target, link count, capabilities, ACLs, SELinux label, xattrs) follow, worded as in OSSEC's style.
 */
export function buildWazuhFullLog(change: FileChange, mode: SyscheckMode, path = displayPath(change.path)): string {
  const head = `File '${path}' ${change.kind}\nMode: ${mode}\n`;
  if (change.kind !== 'modified') return head;
  const lines = [`Changed attributes: ${change.changedAttributes.join(',')}`, ...wazuhLines(change.before, change.after, change.changedAttributes)];
  return `${head}${lines.map((line) => `${line}\n`).join('')}`;
}

function wazuhLines(before: FileState, after: FileState, changed: readonly Attribute[]): string[] {
  const has = (a: Attribute): boolean => changed.includes(a);
  const lines: string[] = [];
  if (has('size')) lines.push(`Size changed from '${before.size}' to '${after.size}'`);
  if (has('permission')) lines.push(`Permissions changed from '${permissionString(before.mode)}' to '${permissionString(after.mode)}'`);
  if (has('uid')) lines.push(`Ownership was '${before.uid}', now it is '${after.uid}'`);
  if (has('user_name')) lines.push(`User name was '${before.uname ?? ''}', now it is '${after.uname ?? ''}'`);
  if (has('gid')) lines.push(`Group ownership was '${before.gid}', now it is '${after.gid}'`);
  if (has('group_name')) lines.push(`Group name was '${before.gname ?? ''}', now it is '${after.gname ?? ''}'`);
  if (has('mtime')) lines.push(`Old modification time was: '${epochSeconds(before.mtimeNs)}', now it is '${epochSeconds(after.mtimeNs)}'`);
  if (has('inode')) lines.push(`Old inode was: '${before.inode}', now it is '${after.inode}'`);
  for (const algorithm of ['md5', 'sha1', 'sha256'] as const) {
    if (!has(algorithm)) continue;
    lines.push(`Old ${algorithm}sum was: '${before.hashes[algorithm] ?? ''}'`, `New ${algorithm}sum is : '${after.hashes[algorithm] ?? ''}'`);
  }
  if (has('attributes')) {
    lines.push(`Old attributes were: '${before.inodeAttributes?.flags ?? ''}'`, `Now they are '${after.inodeAttributes?.flags ?? ''}'`);
  }
  if (has('type')) lines.push(`Type changed from '${before.type}' to '${after.type}'`);
  if (has('link_target')) {
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
  for (const [field, label] of OTHER_INODE_ATTRIBUTES) {
    if (has(ATTRIBUTE_OF_FIELD[field]))
      lines.push(`${label} changed from '${before.inodeAttributes?.[field] ?? ''}' to '${after.inodeAttributes?.[field] ?? ''}'`);
  }
  return lines;
}

// Wazuh writes whole seconds since the epoch; the nanoseconds stay in syscheck.mtime_* and in the history.
function epochSeconds(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  return String(ns < 0n && ns % 1_000_000_000n !== 0n ? seconds - 1n : seconds);
}

const OTHER_INODE_ATTRIBUTES: readonly (readonly [InodeAttributeField, string])[] = [
  ['capabilities', 'Capabilities'],
  ['acl', 'ACL'],
  ['defaultAcl', 'Default ACL'],
  ['selinux', 'SELinux label'],
  ['xattrs', 'Extended attributes'],
];
