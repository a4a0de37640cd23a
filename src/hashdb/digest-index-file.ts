import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { readFileStart } from '../platform/read-file-start.js';
import { READ_NO_FOLLOW, WRITE_NO_FOLLOW } from '../platform/no-follow-flags.js';

const MAGIC = 'CDIX';
const VERSION = 1;
const HEADER_BYTES = 64;
/** One row: digest (zero-padded to 32 bytes), its length, a "placed" flag, 2 spare bytes, source id, checksum. */
export const RECORD_BYTES = 44;
const CHECKED_BYTES = 40;
const CHECKED_WORDS = CHECKED_BYTES / 4;
const RECORD_WORDS = RECORD_BYTES / 4;
/** About this many records a bucket: one positioned read of a few hundred bytes answers a lookup. */
const RECORDS_PER_BUCKET = 8;
const MIN_BUCKET_BITS = 8;
const MAX_BUCKET_BITS = 26;
const WRITE_CHUNK_RECORDS = 32_768;

/** One row of the known table as the index keeps it. */
export interface IndexedRow {
  readonly digest: Buffer;
  /** True when the row has a path or a package: only the database can describe it. */
  readonly placed: boolean;
  readonly sourceId: number;
}

/** Why an index file cannot be used. */
export class DigestIndexCorrupt extends Error {}

/** The bucket of a digest: its first `bits` bits. */
const bucketOf = (digest: Buffer, offset: number, bits: number): number => digest.readUInt32BE(offset) >>> (32 - bits);

/**
 * A checksum of a record's first 40 bytes (word-wise multiply-xor; collisions only matter for corruption, which
 * a single flipped bit cannot hide from it). A record whose checksum fails makes the whole index unusable.
 */
function checksum(buf: Buffer, offset: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < CHECKED_BYTES; i += 4) {
    h = Math.imul(h ^ buf.readUInt32LE(offset + i), 0x01000193);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** Writes one row as a record at `offset` of `buf`. */
export function encodeRecord(buf: Buffer, offset: number, row: IndexedRow): void {
  if (row.digest.length < 4 || row.digest.length > 32) throw new RangeError(`a digest of ${row.digest.length} bytes cannot be indexed`);
  if (!Number.isInteger(row.sourceId) || row.sourceId < 0 || row.sourceId > 0xffffffff) throw new RangeError(`source id ${row.sourceId} out of range`);
  buf.fill(0, offset, offset + RECORD_BYTES);
  row.digest.copy(buf, offset);
  buf[offset + 32] = row.digest.length;
  buf[offset + 33] = row.placed ? 1 : 0;
  buf.writeUInt32LE(row.sourceId, offset + 36);
  buf.writeUInt32LE(checksum(buf, offset), offset + CHECKED_BYTES);
}

/** Reads the record at `offset`, or throws `DigestIndexCorrupt` when its checksum fails. */
export function decodeRecord(buf: Buffer, offset: number): IndexedRow {
  if (buf.readUInt32LE(offset + CHECKED_BYTES) !== checksum(buf, offset)) throw new DigestIndexCorrupt('a record fails its checksum');
  const length = buf[offset + 32] as number;
  if (length < 4 || length > 32) throw new DigestIndexCorrupt('a record has an impossible digest length');
  return { digest: Buffer.from(buf.subarray(offset, offset + length)), placed: buf[offset + 33] === 1, sourceId: buf.readUInt32LE(offset + 36) };
}

function bucketBitsFor(rows: number): number {
  let bits = MIN_BUCKET_BITS;
  while (bits < MAX_BUCKET_BITS && rows / 2 ** bits > RECORDS_PER_BUCKET) bits++;
  return bits;
}

/**
 * Writes a digest index file: the rows (which must come in the known table's key order, digest bytes first), a
 * directory of where each bucket starts, and a header with the database generation they describe and a hash of
 * the directory. Written aside and renamed, so a reader never sees half a file. `expectedRows` sizes the directory.
 */
export function writeDigestIndex(file: string, generation: number, expectedRows: number, rows: Iterable<IndexedRow>): number {
  const bits = bucketBitsFor(expectedRows);
  const buckets = 2 ** bits;
  const directory = new Uint32Array(buckets + 1);
  const recordsAt = HEADER_BYTES + directory.byteLength;
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, WRITE_NO_FOLLOW, 0o644);
  try {
    const chunk = Buffer.alloc(WRITE_CHUNK_RECORDS * RECORD_BYTES);
    let inChunk = 0;
    let count = 0;
    let last = 0;
    const flush = (): void => {
      writeSync(fd, chunk, 0, inChunk * RECORD_BYTES, recordsAt + (count - inChunk) * RECORD_BYTES);
      inChunk = 0;
    };
    for (const row of rows) {
      const bucket = bucketOf(row.digest, 0, bits);
      if (bucket < last) throw new RangeError('digest index rows must come in digest order');
      last = bucket;
      (directory[bucket + 1] as number)++;
      encodeRecord(chunk, inChunk * RECORD_BYTES, row);
      inChunk++;
      count++;
      if (inChunk === WRITE_CHUNK_RECORDS) flush();
    }
    if (count > 0xffffffff) throw new RangeError('too many rows for a digest index');
    flush();
    for (let b = 1; b <= buckets; b++) directory[b] = (directory[b] as number) + (directory[b - 1] as number);
    const dirBytes = Buffer.from(directory.buffer, directory.byteOffset, directory.byteLength);
    const header = Buffer.alloc(HEADER_BYTES);
    header.write(MAGIC, 0, 'latin1');
    header.writeUInt32LE(VERSION, 4);
    header.writeDoubleLE(generation, 8);
    header.writeDoubleLE(count, 16);
    header.writeUInt32LE(bits, 24);
    header.writeUInt32LE(RECORD_BYTES, 28);
    createHash('sha256').update(dirBytes).digest().copy(header, 32);
    writeSync(fd, dirBytes, 0, dirBytes.length, HEADER_BYTES);
    writeSync(fd, header, 0, HEADER_BYTES, 0);
    closeSync(fd);
    renameSync(tmp, file);
    return count;
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    throw error;
  }
}

/** The generation a digest index file describes, or undefined when it is missing or not one. */
export function digestIndexGeneration(file: string): number | undefined {
  const header = readFileStart(file, HEADER_BYTES);
  return header === undefined || header.toString('latin1', 0, 4) !== MAGIC ? undefined : header.readDoubleLE(8);
}

/**
 * A digest index file open for lookups: the directory in memory (4 bytes a bucket, about 64 MB at 100 million
 * rows), the records read on demand with positioned reads (the kernel's page cache keeps the hot ones; the
 * process's memory does not grow with the file, unlike a memory map).
 */
export class DigestIndexFile {
  readonly generation: number;
  readonly rows: number;
  readonly #fd: number;
  readonly #bits: number;
  readonly #directory: Uint32Array;
  readonly #recordsAt: number;
  #scratch = Buffer.alloc(0);
  /** The scratch buffer as 32-bit words (records are 11 words): the checksum and digest compare read words, not bytes. */
  #words = new Uint32Array(0);
  /** The digest asked for, zero-padded, as 8 words. */
  readonly #wanted = new Uint32Array(8);
  readonly #wantedBytes = Buffer.from(this.#wanted.buffer);
  #closed = false;

  private constructor(fd: number, generation: number, rows: number, bits: number, directory: Uint32Array) {
    this.#fd = fd;
    this.generation = generation;
    this.rows = rows;
    this.#bits = bits;
    this.#directory = directory;
    this.#recordsAt = HEADER_BYTES + directory.byteLength;
  }

  /**
   * Opens `file`; `undefined` if it is missing or describes another generation. Throws `DigestIndexCorrupt` when
   * it claims to be current but is truncated, has a damaged directory or a foreign layout.
   */
  static open(file: string, generation: number): DigestIndexFile | undefined {
    let fd: number;
    try {
      fd = openSync(file, READ_NO_FOLLOW);
    } catch {
      return undefined;
    }
    try {
      const header = Buffer.alloc(HEADER_BYTES);
      if (readSync(fd, header, 0, HEADER_BYTES, 0) !== HEADER_BYTES || header.toString('latin1', 0, 4) !== MAGIC)
        throw new DigestIndexCorrupt(`${file}: not a digest index`);
      if (header.readUInt32LE(4) !== VERSION || header.readUInt32LE(28) !== RECORD_BYTES) throw new DigestIndexCorrupt(`${file}: unknown layout`);
      // Lookups read records as native 32-bit words; the file is little-endian (amd64, arm64).
      if (endianness() !== 'LE') throw new DigestIndexCorrupt('digest index files are read on little-endian hosts only');
      if (header.readDoubleLE(8) !== generation) {
        closeSync(fd);
        return undefined;
      }
      const rows = header.readDoubleLE(16);
      const bits = header.readUInt32LE(24);
      if (bits < MIN_BUCKET_BITS || bits > MAX_BUCKET_BITS || !Number.isInteger(rows) || rows < 0) throw new DigestIndexCorrupt(`${file}: damaged header`);
      const directory = new Uint32Array(2 ** bits + 1);
      const size = HEADER_BYTES + directory.byteLength + rows * RECORD_BYTES;
      if (fstatSync(fd).size !== size) throw new DigestIndexCorrupt(`${file}: ${fstatSync(fd).size} bytes where ${size} were written (truncated?)`);
      const dirBytes = Buffer.from(directory.buffer);
      if (readSync(fd, dirBytes, 0, dirBytes.length, HEADER_BYTES) !== dirBytes.length) throw new DigestIndexCorrupt(`${file}: short read`);
      if (!createHash('sha256').update(dirBytes).digest().subarray(0, 32).equals(header.subarray(32, 64)))
        throw new DigestIndexCorrupt(`${file}: damaged directory`);
      if (directory[directory.length - 1] !== rows) throw new DigestIndexCorrupt(`${file}: directory does not add up`);
      return new DigestIndexFile(fd, generation, rows, bits, directory);
    } catch (error) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      throw error;
    }
  }

  /**
   * Every row with exactly this digest, in file (key) order; throws `DigestIndexCorrupt` when a record of its
   * bucket fails its checksum or sits in the wrong bucket.
   */
  find(digest: Buffer): IndexedRow[] {
    if (this.#closed) throw new DigestIndexCorrupt('the index was closed');
    const bucket = bucketOf(digest, 0, this.#bits);
    const from = this.#directory[bucket] as number;
    const to = this.#directory[bucket + 1] as number;
    if (to <= from) return [];
    const bytes = (to - from) * RECORD_BYTES;
    if (this.#scratch.length < bytes) {
      const memory = new ArrayBuffer(Math.max(bytes, 64 * RECORD_BYTES));
      this.#scratch = Buffer.from(memory);
      this.#words = new Uint32Array(memory);
    }
    const buf = this.#scratch;
    if (readSync(this.#fd, buf, 0, bytes, this.#recordsAt + from * RECORD_BYTES) !== bytes) throw new DigestIndexCorrupt('short read of a bucket');
    const wanted = this.#wanted;
    wanted.fill(0);
    digest.copy(this.#wantedBytes);
    const words = this.#words;
    const shift = 32 - this.#bits;
    const found: IndexedRow[] = [];
    // Every record of the bucket is verified, not just the matching ones: a damaged copy of the digest asked for
    // would otherwise go unnoticed and the answer would lack it.
    for (let w = 0, at = 0; at < bytes; w += RECORD_WORDS, at += RECORD_BYTES) {
      let h = 0x811c9dc5;
      for (let i = 0; i < CHECKED_WORDS; i++) {
        h = Math.imul(h ^ (words[w + i] as number), 0x01000193);
        h ^= h >>> 15;
      }
      if (words[w + CHECKED_WORDS] !== h >>> 0) throw new DigestIndexCorrupt('a record fails its checksum');
      if ((((buf[at] as number) << 24) | ((buf[at + 1] as number) << 16) | ((buf[at + 2] as number) << 8) | (buf[at + 3] as number)) >>> shift !== bucket) {
        throw new DigestIndexCorrupt('a record sits in the wrong bucket');
      }
      if (buf[at + 32] !== digest.length) continue;
      let same = true;
      for (let i = 0; i < 8 && same; i++) same = words[w + i] === wanted[i];
      if (same) found.push({ digest, placed: buf[at + 33] === 1, sourceId: words[w + 9] as number });
    }
    return found;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
