import { createHash, hash as oneShotHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import type { FileHashes, FileIssue, HashAlgorithm } from '../core/file-state.js';
import type { InodeAttributeRequest } from '../core/inode-attributes.js';
import { fastReadAvailable, openAndRead, statAndClose } from './fd-read.js';
import { issueFromError } from './issue-from-error.js';
import type { StatSnapshot } from './packed-stat.js';
import { readFdAttributes } from './read-fd-attributes.js';
import type { InodeAttributesResult } from './read-inode-attributes.js';

export type { StatSnapshot } from './packed-stat.js';

/** The outcome of hashing one file: digests (possibly none) with the stat they belong to, or a per-file issue. */
export type HashFileResult =
  | {
      readonly ok: true;
      readonly hashes: FileHashes;
      readonly stat: StatSnapshot;
      readonly issue?: FileIssue;
      /** The inode attributes `HashFileOptions.attributes` asked for, read with the content (absent: not read). */
      readonly attributes?: InodeAttributesResult;
    }
  | { readonly ok: false; readonly issue: FileIssue; readonly stat?: StatSnapshot; readonly hashes?: FileHashes };

/** Limits and scratch space for {@link hashFile}. */
export interface HashFileOptions {
  readonly algorithms: readonly HashAlgorithm[];
  /** Files larger than this are not read; their state carries a `too-large` issue. */
  readonly maxBytes: number;
  /** A reused read buffer; its size is the read size. */
  readonly buffer: Buffer;
  /** How many times to re-read a file that changes while it is read. */
  readonly retries?: number;
  /**
   * What the walk's `lstat` saw. When the file still matches it after the read, that `lstat` stands in for the
   * `fstat` before the read: one system call (and one stat record) per file less.
   */
  readonly expected?: ExpectedStat;
  /**
   * Called after each buffer of a read with the bytes read so far in that read: the signal that a read is under
   * way, at a known point, for code that must act while it is (the test that cuts a file in the middle of its read
   * does it here instead of after a guessed sleep).
   */
  readonly onRead?: (bytesSoFar: number) => void;
  /**
   * Also read these inode attributes, through the descriptor, after the content and before the `fstat` that
   * checks the read: a change to any of them moves ctime, so a result that passes the check has attributes of the
   * very state it reports. Not read for a file over `maxBytes` (its content is not read either).
   */
  readonly attributes?: InodeAttributeRequest;
}

/** The identity and content-related stat fields of a file as the walk saw it. */
export interface ExpectedStat {
  readonly size: number;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly inode: number;
  readonly dev: number;
}

// O_NONBLOCK: a path swapped for a FIFO after lstat must not block the open. O_NOFOLLOW: a path swapped for a
// symlink must not lead the read elsewhere. O_NOCTTY: never acquire a terminal.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY;

/**
 * Reads a regular file once and computes every requested digest from that one read. Synchronous by design: it
 * runs inside a hashing worker, where a blocking loop over a reused buffer is several times faster than streams.
 * The file is re-checked with `fstat` after the read; if its size, mtime or ctime moved, it is read again, and
 * after the retries the result carries `changed-while-hashed` with the digests of the last read: a file someone
 * keeps touching must be compared on what it holds now, never on digests carried forward from an older scan.
 */
export function hashFile(path: Buffer, options: HashFileOptions): HashFileResult {
  if (options.expected !== undefined && options.expected.size <= options.maxBytes) {
    const quick = hashAsExpected(path, options.expected, options);
    if (quick !== undefined) return quick;
  }
  const retries = options.retries ?? 2;
  let lastStat: StatSnapshot | undefined;
  let lastHashes: FileHashes | undefined;
  for (let attempt = 0; attempt <= retries; attempt++) {
    const fd = openForHashing(path);
    if (typeof fd !== 'number') return fd;
    try {
      const before = snapshot(fstatSync(fd, { bigint: true }));
      if (before.format !== constants.S_IFREG) {
        return { ok: false, issue: { code: 'changed-while-hashed', message: 'replaced by a non-regular file during the scan' }, stat: before };
      }
      if (before.size > options.maxBytes) {
        return { ok: true, hashes: {}, stat: before, issue: { code: 'too-large', message: `larger than the ${options.maxBytes}-byte hashing limit` } };
      }
      const read = readAndHash(fd, before.size, options);
      const attributes = attributesOf(fd, options);
      const after = snapshot(fstatSync(fd, { bigint: true }));
      lastStat = after;
      lastHashes = read.hashes;
      if (read.bytes === before.size && sameContentStat(before, after)) return okResult(read.hashes, after, attributes);
    } catch (error) {
      return { ok: false, issue: issueFromError(error) };
    } finally {
      closeSync(fd);
    }
  }
  const issue: FileIssue = {
    code: 'changed-while-hashed',
    message: `the file kept changing while it was read (${retries + 1} reads); digests are from the last read`,
  };
  if (lastStat === undefined) return { ok: false, issue };
  return lastHashes === undefined ? { ok: false, issue, stat: lastStat } : { ok: false, issue, stat: lastStat, hashes: lastHashes };
}

/**
 * One read checked against the walk's `lstat`: if the open file is still a regular file with exactly that size,
 * times, inode and device after the read, nothing touched it between the walk and the end of the read (a write
 * moves mtime, a chmod or a utimes moves ctime, a replacement changes the inode). Anything else returns
 * `undefined`, and the caller takes the careful path with its own `fstat` before the read.
 */
function hashAsExpected(path: Buffer, expected: ExpectedStat, options: HashFileOptions): HashFileResult | undefined {
  if (options.onRead === undefined && expected.size < options.buffer.length && fastReadAvailable()) return hashSmallAsExpected(path, expected, options);
  const fd = openForHashing(path);
  if (typeof fd !== 'number') return fd;
  try {
    const read = readAndHash(fd, expected.size, options);
    const attributes = attributesOf(fd, options);
    const after = snapshot(fstatSync(fd, { bigint: true }));
    if (after.format === constants.S_IFREG && read.bytes === expected.size && sameContentStat(expected, after)) return okResult(read.hashes, after, attributes);
    return undefined;
  } catch {
    // EAGAIN from a FIFO swapped in, EISDIR, an I/O error: the careful path sees it again and reports it.
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * {@link hashAsExpected} for a file that fits the read buffer, through the addon (`openAndRead`, `statAndClose`):
 * the same read, checks and result with two native calls where `fs` takes five (open, two reads, fstat, close), and
 * no BigIntStats. On 200,000 small files each hashing worker used 3.0-3.1 s of CPU instead of 3.5-3.7.
 */
function hashSmallAsExpected(path: Buffer, expected: ExpectedStat, options: HashFileOptions): HashFileResult | undefined {
  const opened = openAndRead(path, options.buffer, expected.size + 1);
  if (opened === undefined) return undefined;
  let open = true;
  try {
    const data = options.buffer.subarray(0, opened.bytes);
    const hashes: Record<string, string> = {};
    for (const algorithm of options.algorithms) hashes[algorithm] = oneShotHash(algorithm, data, 'hex');
    const attributes = attributesOf(opened.fd, options);
    open = false;
    const after = statAndClose(opened.fd);
    if (after !== undefined && after.format === constants.S_IFREG && opened.bytes === expected.size && sameContentStat(expected, after))
      return okResult(hashes, after, attributes);
    return undefined;
  } catch {
    return undefined;
  } finally {
    if (open) closeSync(opened.fd);
  }
}

function attributesOf(fd: number, options: HashFileOptions): InodeAttributesResult | undefined {
  return options.attributes === undefined ? undefined : readFdAttributes(fd, options.attributes);
}

function okResult(hashes: FileHashes, stat: StatSnapshot, attributes: InodeAttributesResult | undefined): HashFileResult {
  return attributes === undefined ? { ok: true, hashes, stat } : { ok: true, hashes, stat, attributes };
}

/** Opens a file to hash it (see OPEN_FLAGS); a failure comes back as the result that reports it. */
function openForHashing(path: Buffer): number | HashFileResult {
  try {
    return openSync(path, OPEN_FLAGS);
  } catch (error) {
    return { ok: false, issue: issueFromError(error) };
  }
}

function readAndHash(fd: number, expectedSize: number, options: HashFileOptions): { bytes: number; hashes: FileHashes } {
  const { buffer, algorithms } = options;
  // Read one byte past the expected end: a file that grew is noticed without reading an endless log to its end.
  const limit = expectedSize + 1;
  let hashers: ReturnType<typeof createHash>[] | undefined;
  let total = 0;
  for (;;) {
    const filled = fill(fd, buffer, limit - total);
    total += filled;
    options.onRead?.(total);
    const atEnd = filled < buffer.length || total >= limit;
    if (hashers === undefined && atEnd) {
      // Small files (the vast majority) fit in one buffer: one-shot digests skip the hasher objects.
      const data = buffer.subarray(0, filled);
      const hashes: Record<string, string> = {};
      for (const algorithm of algorithms) hashes[algorithm] = oneShotHash(algorithm, data, 'hex');
      return { bytes: total, hashes };
    }
    hashers ??= algorithms.map((a) => createHash(a));
    const chunk = buffer.subarray(0, filled);
    for (const h of hashers) h.update(chunk);
    if (atEnd) break;
  }
  const hashes: Record<string, string> = {};
  algorithms.forEach((a, i) => {
    hashes[a] = hashers?.[i]?.digest('hex') ?? '';
  });
  return { bytes: total, hashes };
}

/** Reads until the buffer is full, `max` bytes were read, or the file ends (short reads are retried). */
function fill(fd: number, buffer: Buffer, max: number): number {
  const want = Math.min(buffer.length, max);
  let got = 0;
  while (got < want) {
    const n = readSync(fd, buffer, got, want - got, null);
    if (n === 0) break;
    got += n;
  }
  return got;
}

function sameContentStat(a: ExpectedStat, b: ExpectedStat): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.inode === b.inode && a.dev === b.dev;
}

/** Copies the fields Custos keeps out of a bigint `Stats`. */
export function snapshot(st: BigIntStats): StatSnapshot {
  return {
    size: Number(st.size),
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    inode: Number(st.ino),
    dev: Number(st.dev),
    nlink: Number(st.nlink),
    format: Number(st.mode & BigInt(constants.S_IFMT)),
  };
}
