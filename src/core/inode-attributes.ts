import { createHash } from 'node:crypto';
import { decodeCapabilities } from './file-capabilities.js';
import { describeInodeFlags } from './inode-flags.js';
import { decodePosixAcl } from './posix-acl.js';

/**
 * What `stat` does not show about an entry and intruders use: file capabilities, POSIX ACLs, the SELinux label,
 * the other extended attributes (names and a digest of each value) and the inode flags (`chattr`). Each is text
 * in a canonical form, so comparing is string equality and alerts show it as it is. A field is absent when it was
 * not read (its check is off, or the baseline predates it) and `''` when the entry has none of it.
 */
export interface InodeAttributes {
  /** `getcap`'s form: `cap_net_raw,cap_setuid=ep`. */
  readonly capabilities?: string;
  /** The access ACL in `getfacl -n` form, comma-separated; `''` when the mode bits are the whole story. */
  readonly acl?: string;
  /** A directory's default ACL, same form. */
  readonly defaultAcl?: string;
  readonly selinux?: string;
  /** Every other extended attribute: `name=<first 16 hex of its value's SHA-256>`, by name, comma-separated. */
  readonly xattrs?: string;
  /** `lsattr`'s letters of the flags that matter (see `describeInodeFlags`), `-` for none. */
  readonly flags?: string;
}

/** The fields of {@link InodeAttributes}, in the order they are compared, stored and shown. */
export const INODE_ATTRIBUTE_FIELDS = ['capabilities', 'acl', 'defaultAcl', 'selinux', 'xattrs', 'flags'] as const;
export type InodeAttributeField = (typeof INODE_ATTRIBUTE_FIELDS)[number];

/** Which of them a check set asks for. */
export type InodeAttributeRequest = { readonly [F in InodeAttributeField]: boolean };

/** What the kernel said: each extended attribute (a value is an errno when it could not be read), and the flags. */
export interface RawInodeAttributes {
  readonly names: readonly Buffer[];
  readonly values: readonly (Buffer | number)[];
  /** `FS_IOC_GETFLAGS`; absent when the entry has none (a symlink, a device) or they could not be read. */
  readonly flags?: number;
}

const CAPABILITY = 'security.capability';
const ACL_ACCESS = 'system.posix_acl_access';
const ACL_DEFAULT = 'system.posix_acl_default';
const SELINUX = 'security.selinux';
const DEDICATED = new Set([CAPABILITY, ACL_ACCESS, ACL_DEFAULT, SELINUX]);

/** True when a request asks for anything at all. */
export function wantsInodeAttributes(request: InodeAttributeRequest): boolean {
  return INODE_ATTRIBUTE_FIELDS.some((f) => request[f]);
}

const NO_ATTRIBUTES: ReadonlyMap<string, Buffer | number> = new Map();

/** Turns what the kernel said into the canonical texts the request asks for. */
export function summarizeInodeAttributes(raw: RawInodeAttributes, request: InodeAttributeRequest): InodeAttributes {
  // Most entries have no extended attribute at all: no map to look them up in (a scan summarizes every file's).
  let byName = NO_ATTRIBUTES;
  if (raw.names.length > 0) {
    const map = new Map<string, Buffer | number>();
    raw.names.forEach((name, i) => map.set(name.toString('latin1'), raw.values[i] ?? 0));
    byName = map;
  }
  const text = (name: string, decode: (v: Buffer) => string): string => {
    const value = byName.get(name);
    if (value === undefined) return '';
    return typeof value === 'number' ? `unreadable (errno ${value})` : decode(value);
  };
  const out: { -readonly [F in InodeAttributeField]?: string } = {};
  if (request.capabilities) out.capabilities = text(CAPABILITY, decodeCapabilities);
  if (request.acl) out.acl = text(ACL_ACCESS, decodePosixAcl);
  if (request.defaultAcl) out.defaultAcl = text(ACL_DEFAULT, decodePosixAcl);
  if (request.selinux) out.selinux = text(SELINUX, (v) => escapeBytes(stripTrailingNul(v)));
  if (request.xattrs) out.xattrs = otherAttributes(raw);
  if (request.flags && raw.flags !== undefined) out.flags = describeInodeFlags(raw.flags);
  return out;
}

function otherAttributes(raw: RawInodeAttributes): string {
  if (raw.names.length === 0) return '';
  const entries: { name: Buffer; text: string }[] = [];
  raw.names.forEach((name, i) => {
    if (DEDICATED.has(name.toString('latin1'))) return;
    const value = raw.values[i];
    const digest = Buffer.isBuffer(value) ? createHash('sha256').update(value).digest('hex').slice(0, 16) : `?${String(value)}`;
    entries.push({ name, text: `${escapeBytes(name)}=${digest}` });
  });
  return entries
    .sort((a, b) => Buffer.compare(a.name, b.name))
    .map((e) => e.text)
    .join(',');
}

function stripTrailingNul(value: Buffer): Buffer {
  return value.length > 0 && value[value.length - 1] === 0 ? value.subarray(0, value.length - 1) : value;
}

/** Printable ASCII as is, everything else (and the separators `,` `=` `\`) as `\xNN`: one line, unambiguous. */
function escapeBytes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    out += b > 0x20 && b < 0x7f && b !== 0x2c && b !== 0x3d && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** True when both are equal field by field (absent equals absent). */
export function sameInodeAttributes(a: InodeAttributes | undefined, b: InodeAttributes | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return INODE_ATTRIBUTE_FIELDS.every((f) => a[f] === b[f]);
}
