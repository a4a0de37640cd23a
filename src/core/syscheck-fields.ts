import { ATTRIBUTES, type Attribute } from './compare-file-state.js';
import type { SyscheckMode } from './event-record.js';
import type { ChangeKind, FileChange } from './file-change.js';
import type { FileState } from './file-state.js';
import { displayPath, isExactDisplay } from './path-bytes.js';
import { permissionString } from './permission-string.js';
import { isoFromNs } from './time-ns.js';

/** `syscheck` of an alert: Wazuh's field names, so existing pipelines read it unchanged. */
export interface SyscheckFields {
  readonly path: string;
  /** The exact path bytes, base64, present whenever `path` had to be escaped. */
  readonly path_bytes?: string;
  readonly event: ChangeKind;
  /** Wazuh's `mode`: how the change was seen (`scheduled` or `realtime`). */
  readonly mode?: SyscheckMode;
  readonly changed_attributes?: readonly Attribute[];
  readonly [field: string]: unknown;
}

/**
 * Builds `syscheck` for a change. As in Wazuh, `*_after` carries every attribute of the resulting state (of the
 * last known state for a deletion), and `*_before` only the attributes that changed. `display` is the path as
 * {@link displayPath} renders it, when the caller has it already.
 */
export function syscheckFields(change: FileChange, display = displayPath(change.path), mode: SyscheckMode = 'scheduled'): SyscheckFields {
  const fields: Record<string, unknown> = { path: display };
  if (!isExactDisplay(change.path)) fields.path_bytes = change.path.toString('base64');
  fields.mode = mode;
  fields.event = change.kind;
  if (change.kind === 'modified') {
    fields.changed_attributes = change.changedAttributes;
    for (const attribute of change.changedAttributes) {
      const value = attributeValue(change.before, attribute);
      if (value !== undefined) fields[BEFORE_KEY[attribute]] = value;
    }
  }
  const state = change.kind === 'deleted' ? change.before : change.after;
  // ctime moves with every change: shown only when it is the change.
  const showCtime = change.kind === 'modified' && change.changedAttributes.includes('ctime');
  for (const attribute of ATTRIBUTES) {
    if (attribute === 'ctime' && !showCtime) continue;
    const value = attributeValue(state, attribute);
    if (value !== undefined) fields[AFTER_KEY[attribute]] = value;
  }
  const issues = state.issues;
  if (issues.length > 0) fields.issues = issues;
  return fields as unknown as SyscheckFields;
}

const FIELD_OF: Readonly<Record<Attribute, string>> = {
  type: 'type',
  size: 'size',
  permission: 'perm',
  uid: 'uid',
  user_name: 'uname',
  gid: 'gid',
  group_name: 'gname',
  mtime: 'mtime',
  inode: 'inode',
  md5: 'md5',
  sha1: 'sha1',
  sha256: 'sha256',
  link_target: 'link_target',
  link_count: 'link_count',
  capabilities: 'capabilities',
  acl: 'acl',
  default_acl: 'default_acl',
  selinux: 'selinux',
  xattrs: 'xattrs',
  attributes: 'attributes',
  ctime: 'ctime',
};

// The field names, built once: a key built per field and alert (a new string to look up) was a third of the
// function's time.
const BEFORE_KEY = Object.fromEntries(ATTRIBUTES.map((a) => [a, `${FIELD_OF[a]}_before`])) as Readonly<Record<Attribute, string>>;
const AFTER_KEY = Object.fromEntries(ATTRIBUTES.map((a) => [a, `${FIELD_OF[a]}_after`])) as Readonly<Record<Attribute, string>>;

// One attribute at a time: a modification reports only its changed attributes' old values, and formatting all
// of them (times, permissions) for every alert was a fifth of the manager's work per event.
function attributeValue(state: FileState, attribute: Attribute): string | number | undefined {
  switch (attribute) {
    case 'type':
      return state.type;
    case 'size':
      return String(state.size);
    case 'permission':
      return permissionString(state.mode);
    case 'uid':
      return String(state.uid);
    case 'user_name':
      return state.uname;
    case 'gid':
      return String(state.gid);
    case 'group_name':
      return state.gname;
    case 'mtime':
      return isoFromNs(state.mtimeNs);
    case 'inode':
      return state.inode;
    case 'md5':
    case 'sha1':
    case 'sha256':
      return state.hashes[attribute];
    case 'link_target':
      return state.linkTarget === undefined ? undefined : displayPath(state.linkTarget);
    case 'link_count':
      return state.nlink;
    case 'capabilities':
      return state.inodeAttributes?.capabilities;
    case 'acl':
      return state.inodeAttributes?.acl;
    case 'default_acl':
      return state.inodeAttributes?.defaultAcl;
    case 'selinux':
      return state.inodeAttributes?.selinux;
    case 'xattrs':
      return state.inodeAttributes?.xattrs;
    case 'attributes':
      return state.inodeAttributes?.flags;
    case 'ctime':
      return isoFromNs(state.ctimeNs);
  }
}
