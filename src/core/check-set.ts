import type { HashAlgorithm } from './file-state.js';

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
] as const;
export type CheckOption = (typeof CHECK_OPTIONS)[number];

/** `check_all`: every attribute (as Wazuh defines it: hashes, size, owner, group, perm, mtime, inode). */
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
