import type { HashAlgorithm } from './file-state.js';
import type { InodeAttributeRequest } from './inode-attributes.js';

/**
 * Which attributes of the entries below one configured directory are compared, following OSSEC's `check_*`
 * options. Type and symlink target are always compared: a file turned into a symlink is always a change.
 */
export interface CheckSet {
  readonly md5: boolean;
  readonly sha1: boolean;
  readonly sha256: boolean;
  readonly size: boolean;
  readonly owner: boolean;
  readonly group: boolean;
  readonly perm: boolean;
  readonly mtime: boolean;
  readonly inode: boolean;
  /** File capabilities (`security.capability`). */
  readonly capabilities: boolean;
  /** POSIX ACLs, access and default. */
  readonly acl: boolean;
  readonly selinux: boolean;
  /** Every other extended attribute (names and a digest of the values). */
  readonly xattrs: boolean;
  /** Inode flags (`chattr`: immutable, append-only, ...). */
  readonly flags: boolean;
  /** The hard-link count (not for directories, whose count moves with their subdirectories). */
  readonly linkCount: boolean;
}

/** OSSEC's option names, in the order they are applied. */
export const CHECK_OPTIONS = [
  'check_all',
  'check_sum',
  'check_md5sum',
  'check_sha1sum',
  'check_sha256sum',
  'check_size',
  'check_owner',
  'check_group',
  'check_perm',
  'check_mtime',
  'check_inode',
  'check_capabilities',
  'check_caps',
  'check_acl',
  'check_selinux',
  'check_xattrs',
  'check_attrs',
  'check_e2fsattrs',
  'check_link_count',
  'check_linkcount',
] as const;
export type CheckOption = (typeof CHECK_OPTIONS)[number];

/**
 * `check_all`: every attribute (as Wazuh defines it: hashes, size, owner, group, perm, mtime, inode), plus what AIDE
 * checks by default and Wazuh does not: capabilities, ACLs, SELinux label, extended attributes, inode flags and the
 * link count.
 */
export const CHECK_ALL: CheckSet = Object.freeze({
  md5: true,
  sha1: true,
  sha256: true,
  size: true,
  owner: true,
  group: true,
  perm: true,
  mtime: true,
  inode: true,
  capabilities: true,
  acl: true,
  selinux: true,
  xattrs: true,
  flags: true,
  linkCount: true,
});

const NOTHING: CheckSet = Object.freeze({
  md5: false,
  sha1: false,
  sha256: false,
  size: false,
  owner: false,
  group: false,
  perm: false,
  mtime: false,
  inode: false,
  capabilities: false,
  acl: false,
  selinux: false,
  xattrs: false,
  flags: false,
  linkCount: false,
});

const OPTION_FIELDS: Readonly<Record<CheckOption, readonly (keyof CheckSet)[]>> = {
  check_all: Object.keys(CHECK_ALL) as (keyof CheckSet)[],
  check_sum: ['md5', 'sha1', 'sha256'],
  check_md5sum: ['md5'],
  check_sha1sum: ['sha1'],
  check_sha256sum: ['sha256'],
  check_size: ['size'],
  check_owner: ['owner'],
  check_group: ['group'],
  check_perm: ['perm'],
  check_mtime: ['mtime'],
  check_inode: ['inode'],
  // Wazuh has no names for these; `check_attrs` is Wazuh's for file attributes. AIDE's names are aliases.
  check_capabilities: ['capabilities'],
  check_caps: ['capabilities'],
  check_acl: ['acl'],
  check_selinux: ['selinux'],
  check_xattrs: ['xattrs'],
  check_attrs: ['flags'],
  check_e2fsattrs: ['flags'],
  check_link_count: ['linkCount'],
  check_linkcount: ['linkCount'],
};

/**
 * Builds a check set from OSSEC-style options. As in Wazuh, a directory with no option at all gets `check_all`;
 * the options are applied broadest first, so `check_all: true, check_md5sum: false` means everything but MD5.
 */
export function buildCheckSet(options: { readonly [O in CheckOption]?: boolean | undefined }): CheckSet {
  const given = CHECK_OPTIONS.filter((o) => options[o] !== undefined);
  if (given.length === 0) return CHECK_ALL;
  const set: Record<keyof CheckSet, boolean> = { ...NOTHING };
  for (const option of given) {
    for (const field of OPTION_FIELDS[option]) set[field] = options[option] === true;
  }
  return Object.freeze(set);
}

/** The digests a check set asks for, in a stable order. */
export function hashAlgorithmsOf(checks: CheckSet): readonly HashAlgorithm[] {
  const out: HashAlgorithm[] = [];
  if (checks.md5) out.push('md5');
  if (checks.sha1) out.push('sha1');
  if (checks.sha256) out.push('sha256');
  return out;
}

/** The inode attributes a check set asks the scan to read. */
export function inodeAttributeRequest(checks: CheckSet): InodeAttributeRequest {
  return {
    capabilities: checks.capabilities,
    acl: checks.acl,
    defaultAcl: checks.acl,
    selinux: checks.selinux,
    xattrs: checks.xattrs,
    flags: checks.flags,
  };
}
