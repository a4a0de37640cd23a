import { FILE_ISSUE_CODES, FILE_TYPES, type FileHashes, type FileIssue, type FileState, type FileType } from './file-state.js';
import { jsonString } from './json-string.js';
import { INODE_ATTRIBUTE_FIELDS, type InodeAttributeField, type InodeAttributes } from './inode-attributes.js';

/**
 * The JSON form of a {@link FileState}: what the store keeps and what travels on the wire. Path and link target
 * are base64 (exact bytes), nanosecond times are decimal strings (they exceed 2^53), keys are short because a
 * baseline holds millions of these.
 */
export interface FileStateJson {
  readonly p: string;
  readonly t: FileType;
  readonly s: number;
  readonly m: number;
  readonly u: number;
  readonly g: number;
  readonly un?: string;
  readonly gn?: string;
  readonly mt: string;
  readonly ct: string;
  readonly i: number;
  readonly d: number;
  readonly n: number;
  readonly l?: string;
  readonly h: FileHashes;
  readonly x?: readonly FileIssue[];
  /** Inode attributes, by their short keys (see {@link ATTRIBUTE_KEYS}). */
  readonly a?: { readonly [key: string]: string };
}

/** The short key of each inode attribute field. */
const ATTRIBUTE_KEYS: Readonly<Record<InodeAttributeField, string>> = {
  capabilities: 'c',
  acl: 'A',
  defaultAcl: 'D',
  selinux: 's',
  xattrs: 'x',
  flags: 'f',
};
/** ACLs and attribute lists are bounded by the kernel's 64 KiB per value; their text is a few times that. */
const MAX_ATTRIBUTE_TEXT = 1 << 20;

/** Encodes a state; key order is fixed, so equal states encode to equal text. */
export function fileStateToJson(state: FileState): FileStateJson {
  const json: Record<string, unknown> = {
    p: state.path.toString('base64'),
    t: state.type,
    s: state.size,
    m: state.mode,
    u: state.uid,
    g: state.gid,
  };
  if (state.uname !== undefined) json.un = state.uname;
  if (state.gname !== undefined) json.gn = state.gname;
  json.mt = state.mtimeNs.toString();
  json.ct = state.ctimeNs.toString();
  json.i = state.inode;
  json.d = state.dev;
  json.n = state.nlink;
  if (state.linkTarget !== undefined) json.l = state.linkTarget.toString('base64');
  const hashes: Record<string, string> = {};
  for (const algorithm of ['md5', 'sha1', 'sha256'] as const) {
    const digest = state.hashes[algorithm];
    if (digest !== undefined) hashes[algorithm] = digest;
  }
  json.h = hashes;
  if (state.issues.length > 0) json.x = state.issues;
  if (state.inodeAttributes !== undefined) json.a = attributesToJson(state.inodeAttributes);
  return json as unknown as FileStateJson;
}

/**
 * `JSON.stringify(fileStateToJson(state))`, written out directly: the history stores two states per record and
 * the manager encodes every record it ingests. Base64 and digits go in as they are; names and digests as
 * `JSON.stringify` writes them (see `jsonString`). `pathBase64`, when given, is `state.path` in base64 (a record writes the path
 * three times and encodes it once).
 */
export function fileStateJsonText(state: FileState, pathBase64?: string): string {
  let text = `{"p":"${pathBase64 ?? state.path.toString('base64')}","t":"${state.type}","s":${state.size},"m":${state.mode},"u":${state.uid},"g":${state.gid}`;
  if (state.uname !== undefined) text += `,"un":${jsonString(state.uname)}`;
  if (state.gname !== undefined) text += `,"gn":${jsonString(state.gname)}`;
  text += `,"mt":"${state.mtimeNs}","ct":"${state.ctimeNs}","i":${state.inode},"d":${state.dev},"n":${state.nlink}`;
  if (state.linkTarget !== undefined) text += `,"l":"${state.linkTarget.toString('base64')}"`;
  const { md5, sha1, sha256 } = state.hashes;
  let hashes = '';
  if (md5 !== undefined) hashes += `"md5":${jsonString(md5)}`;
  if (sha1 !== undefined) hashes += `${hashes === '' ? '' : ','}"sha1":${jsonString(sha1)}`;
  if (sha256 !== undefined) hashes += `${hashes === '' ? '' : ','}"sha256":${jsonString(sha256)}`;
  text += `,"h":{${hashes}}`;
  if (state.issues.length > 0) text += `,"x":${JSON.stringify(state.issues)}`;
  if (state.inodeAttributes !== undefined) text += `,"a":${attributesJsonText(state.inodeAttributes)}`;
  return `${text}}`;
}

/** Decodes a state, rejecting anything malformed (it may come from a network peer or a tampered store). */
export function fileStateFromJson(value: unknown): FileState {
  if (typeof value !== 'object' || value === null) throw new TypeError('file state must be an object');
  const v = value as Record<string, unknown>;
  const type = v.t;
  if (typeof type !== 'string' || !(FILE_TYPES as readonly string[]).includes(type)) {
    throw new TypeError('file state has an invalid type');
  }
  const state: {
    -readonly [K in keyof FileState]: FileState[K];
  } = {
    path: base64Field(v.p, 'p'),
    type: type as FileType,
    size: intField(v.s, 's'),
    mode: intField(v.m, 'm'),
    uid: intField(v.u, 'u'),
    gid: intField(v.g, 'g'),
    mtimeNs: bigintField(v.mt, 'mt'),
    ctimeNs: bigintField(v.ct, 'ct'),
    inode: intField(v.i, 'i'),
    dev: intField(v.d, 'd'),
    nlink: intField(v.n, 'n'),
    hashes: hashesField(v.h),
    issues: issuesField(v.x),
  };
  if (typeof v.un === 'string') state.uname = v.un;
  if (typeof v.gn === 'string') state.gname = v.gn;
  if (v.l !== undefined) state.linkTarget = base64Field(v.l, 'l');
  if (v.a !== undefined) state.inodeAttributes = attributesField(v.a);
  return state;
}

/** The short-keyed JSON object of inode attributes (as the wire and the baseline keep them). */
export function attributesToJson(attributes: InodeAttributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of INODE_ATTRIBUTE_FIELDS) {
    const value = attributes[field];
    if (value !== undefined) out[ATTRIBUTE_KEYS[field]] = value;
  }
  return out;
}

/**
 * `JSON.stringify(attributesToJson(attributes))`, remembering the last answer: the files of a tree mostly carry the
 * same attributes (none set), and a scan writes this text into every baseline row.
 */
export function attributesJsonText(attributes: InodeAttributes): string {
  const last = lastAttributes;
  if (last !== undefined && INODE_ATTRIBUTE_FIELDS.every((field, i) => attributes[field] === last.values[i])) return last.text;
  const text = JSON.stringify(attributesToJson(attributes));
  // The values, not the object: what is compared next time is what this text was made of.
  lastAttributes = { values: INODE_ATTRIBUTE_FIELDS.map((field) => attributes[field]), text };
  return text;
}

let lastAttributes: { readonly values: readonly (string | undefined)[]; readonly text: string } | undefined;

/** Decodes {@link attributesToJson}'s object, rejecting unknown keys and anything but one line of text. */
export function attributesField(value: unknown): InodeAttributes {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('file state field a must be an object');
  const v = value as Record<string, unknown>;
  const known = new Set(Object.values(ATTRIBUTE_KEYS));
  for (const key of Object.keys(v)) if (!known.has(key)) throw new TypeError(`file state attribute ${key} is unknown`);
  const out: { -readonly [F in InodeAttributeField]?: string } = {};
  for (const field of INODE_ATTRIBUTE_FIELDS) {
    const text = v[ATTRIBUTE_KEYS[field]];
    if (text === undefined) continue;
    // One line of text: it goes into alert text and alerts.log lines.
    if (typeof text !== 'string' || text.length > MAX_ATTRIBUTE_TEXT || /[\u0000-\u001f\u007f]/.test(text)) {
      throw new TypeError(`file state attribute ${ATTRIBUTE_KEYS[field]} must be one line of text`);
    }
    out[field] = text;
  }
  return out;
}

function base64Field(value: unknown, key: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new TypeError(`file state field ${key} must be base64`);
  }
  return Buffer.from(value, 'base64');
}

function intField(value: unknown, key: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`file state field ${key} must be a non-negative integer`);
  }
  return value;
}

function bigintField(value: unknown, key: string): bigint {
  if (typeof value !== 'string' || !/^-?\d{1,20}$/.test(value)) {
    throw new TypeError(`file state field ${key} must be a decimal string`);
  }
  return BigInt(value);
}

const HEX_LENGTH = { md5: 32, sha1: 40, sha256: 64 } as const;

function hashesField(value: unknown): FileHashes {
  if (typeof value !== 'object' || value === null) throw new TypeError('file state field h must be an object');
  const out: Record<string, string> = {};
  for (const algorithm of ['md5', 'sha1', 'sha256'] as const) {
    const digest = (value as Record<string, unknown>)[algorithm];
    if (digest === undefined) continue;
    if (typeof digest !== 'string' || !new RegExp(`^[0-9a-f]{${HEX_LENGTH[algorithm]}}$`).test(digest)) {
      throw new TypeError(`file state digest ${algorithm} is malformed`);
    }
    out[algorithm] = digest;
  }
  return out;
}

function issuesField(value: unknown): readonly FileIssue[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError('file state field x must be an array');
  return value.map((issue: unknown) => {
    const i = issue as Record<string, unknown>;
    if (typeof i?.code !== 'string' || !(FILE_ISSUE_CODES as readonly string[]).includes(i.code)) {
      throw new TypeError('file state issue has an unknown code');
    }
    return { code: i.code as FileIssue['code'], message: typeof i.message === 'string' ? i.message : '' };
  });
}
