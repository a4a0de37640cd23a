import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { APPEND_NO_FOLLOW, READ_NO_FOLLOW, readFileNoFollow, WRITE_NO_FOLLOW } from '../platform/no-follow-flags.js';

const HEADER_BYTES = 32;
const BLOCK_HEADER_BYTES = 16;
const BLOCK_FOOTER_BYTES = 36;
const BLOCK_MAGIC = 'GLBK';
const VERSION = 1;

/** Why a generation log cannot be believed: torn, truncated, garbled, or out of sequence. */
export class GenerationLogCorrupt extends Error {}

/** One appended block: the payload that brings a reader from `generation - 1` to `generation`. */
export interface LogBlock {
  readonly generation: number;
  readonly payload: Buffer;
}

/** What a log holds: the generation of the base it applies to, its blocks in order, and where they lead. */
export interface LogContents {
  readonly baseGeneration: number;
  /** The generation the last block brings a reader to (`baseGeneration` when there is none). */
  readonly generation: number;
  readonly blocks: readonly LogBlock[];
  readonly bytes: number;
  /** The last block was incomplete (not counted). */
  readonly torn: boolean;
}

/** Where a log ends: read from its header and its last block only (the cost of one small block, not the file). */
export interface LogTail {
  readonly baseGeneration: number;
  readonly generation: number;
  readonly bytes: number;
}

/**
 * An append-only file of what changed since a base file was saved (the digest index's rows, the Bloom filters'
 * digests): a header naming the base's generation, then one block per import, each tagged with the generation it
 * brings a reader to and checksummed (SHA-256 of its header and payload, in a footer that also gives its length,
 * so the last block can be found from the end). An import writes its own block only (one `write` in append mode),
 * so its cost is the rows it added, not the size of what came before. Blocks must follow each other generation by
 * generation; a torn, truncated, garbled or out-of-sequence log is never believed (`GenerationLogCorrupt`).
 */
export class GenerationLog {
  readonly file: string;
  readonly #magic: string;

  /** `magic`: four bytes that say whose log this is, so one log is never read as another's. */
  constructor(file: string, magic: string) {
    if (Buffer.byteLength(magic, 'latin1') !== 4) throw new RangeError('a log magic is four bytes');
    this.file = file;
    this.#magic = magic;
  }

  /** Starts an empty log over a base saved at `baseGeneration` (written aside and renamed: never half a header). */
  reset(baseGeneration: number): void {
    this.#write(baseGeneration, []);
  }

  /**
   * Starts the log over a new base saved at `baseGeneration`, keeping the blocks that lead past it (a fold, or a
   * rebuild from a snapshot while imports went on); a log that does not reach the new base is started afresh.
   * Written aside and renamed. Returns whether the blocks were kept (the log reached the base).
   */
  rebase(baseGeneration: number): boolean {
    let contents: LogContents | undefined;
    try {
      contents = this.read();
    } catch (error) {
      if (!(error instanceof GenerationLogCorrupt)) throw error;
    }
    const reaches = contents !== undefined && contents.baseGeneration <= baseGeneration && contents.generation >= baseGeneration;
    this.#write(baseGeneration, reaches ? (contents as LogContents).blocks.filter((b) => b.generation > baseGeneration) : []);
    return reaches;
  }

  /** True when the log's chain reaches `generation` from a base at or before it (so blocks appended to it will apply to a base of `generation`). */
  reaches(generation: number): boolean {
    try {
      const contents = this.read();
      return contents !== undefined && contents.baseGeneration <= generation && contents.generation >= generation;
    } catch (error) {
      if (error instanceof GenerationLogCorrupt) return false;
      throw error;
    }
  }

  /**
   * Appends one block bringing a reader to `generation`, in one `write` on a descriptor opened for appending (so
   * two processes' blocks never interleave). The caller has checked that the log ends at `generation - 1`.
   */
  append(generation: number, payload: Buffer): number {
    const block = encodeBlock({ generation, payload });
    const fd = openSync(this.file, APPEND_NO_FOLLOW, 0o644);
    try {
      writeSync(fd, block);
    } finally {
      closeSync(fd);
    }
    return block.length;
  }

  #write(baseGeneration: number, blocks: readonly LogBlock[]): void {
    const header = Buffer.alloc(HEADER_BYTES);
    header.write(this.#magic, 0, 'latin1');
    header.writeUInt32LE(VERSION, 4);
    header.writeDoubleLE(baseGeneration, 8);
    createHash('sha256').update(header.subarray(0, 16)).digest().copy(header, 16, 0, 16);
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, WRITE_NO_FOLLOW, 0o644);
    try {
      writeSync(fd, Buffer.concat([header, ...blocks.map(encodeBlock)]));
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }

  /**
   * The log, every complete block verified; `undefined` when there is none. Throws `GenerationLogCorrupt` when a
   * complete block fails its checksum. What it does not throw for: an incomplete last block (a crash in the middle
   * of an append, or an append still being written: `torn`), and blocks that do not extend the chain from the base
   * generation by generation (a block at or below the chain's end repeats what a base already holds, and is kept,
   * since adding rows twice is harmless; a block past a gap ends the chain, which then stops at the gap).
   */
  read(): LogContents | undefined {
    let data: Buffer;
    try {
      data = readFileNoFollow(this.file);
    } catch {
      return undefined;
    }
    const baseGeneration = this.#header(data);
    const blocks: LogBlock[] = [];
    let generation = baseGeneration;
    let gap = false;
    let torn = false;
    for (let at = HEADER_BYTES; at < data.length;) {
      const block = this.#block(data, at);
      if (block === undefined) {
        torn = true;
        break;
      }
      at += BLOCK_HEADER_BYTES + block.payload.length + BLOCK_FOOTER_BYTES;
      if (gap || block.generation > generation + 1) {
        gap = true;
        continue;
      }
      if (block.generation === generation + 1) generation = block.generation;
      blocks.push(block);
    }
    return { baseGeneration, generation, blocks, bytes: data.length, torn };
  }

  /** Where the log ends, from its header and last block; `undefined` when there is none. Throws `GenerationLogCorrupt`. */
  tail(): LogTail | undefined {
    let fd: number;
    try {
      fd = openSync(this.file, READ_NO_FOLLOW);
    } catch {
      return undefined;
    }
    try {
      const size = fstatSync(fd).size;
      const header = Buffer.alloc(HEADER_BYTES);
      if (readSync(fd, header, 0, HEADER_BYTES, 0) !== HEADER_BYTES) throw new GenerationLogCorrupt(`${this.file}: truncated header`);
      const baseGeneration = this.#header(header);
      if (size === HEADER_BYTES) return { baseGeneration, generation: baseGeneration, bytes: size };
      const footer = Buffer.alloc(BLOCK_FOOTER_BYTES);
      if (size < HEADER_BYTES + BLOCK_HEADER_BYTES + BLOCK_FOOTER_BYTES) throw new GenerationLogCorrupt(`${this.file}: truncated block`);
      readSync(fd, footer, 0, BLOCK_FOOTER_BYTES, size - BLOCK_FOOTER_BYTES);
      const length = footer.readUInt32LE(0);
      if (length < BLOCK_HEADER_BYTES + BLOCK_FOOTER_BYTES || length > size - HEADER_BYTES) throw new GenerationLogCorrupt(`${this.file}: torn last block`);
      const last = Buffer.alloc(length);
      if (readSync(fd, last, 0, length, size - length) !== length) throw new GenerationLogCorrupt(`${this.file}: short read`);
      const block = this.#block(last, 0);
      if (block === undefined) throw new GenerationLogCorrupt(`${this.file}: torn last block`);
      return { baseGeneration, generation: block.generation, bytes: size };
    } finally {
      closeSync(fd);
    }
  }

  /** Removes the log. */
  remove(): void {
    rmSync(this.file, { force: true });
  }

  #header(data: Buffer): number {
    if (data.length < HEADER_BYTES || data.toString('latin1', 0, 4) !== this.#magic || data.readUInt32LE(4) !== VERSION)
      throw new GenerationLogCorrupt(`${this.file}: not a log of this kind`);
    if (!createHash('sha256').update(data.subarray(0, 16)).digest().subarray(0, 16).equals(data.subarray(16, 32)))
      throw new GenerationLogCorrupt(`${this.file}: damaged header`);
    return data.readDoubleLE(8);
  }

  /**
   * The block at `at`, verified (its magic, its length in the footer, its checksum); `undefined` when the data ends
   * before it does (torn). Throws `GenerationLogCorrupt` when it is complete but garbled.
   */
  #block(data: Buffer, at: number): LogBlock | undefined {
    if (data.length - at < BLOCK_HEADER_BYTES) return undefined;
    if (data.toString('latin1', at, at + 4) !== BLOCK_MAGIC) throw new GenerationLogCorrupt(`${this.file}: garbled block`);
    const length = data.readUInt32LE(at + 4);
    const footer = at + BLOCK_HEADER_BYTES + length;
    if (footer + BLOCK_FOOTER_BYTES > data.length) return undefined;
    if (data.readUInt32LE(footer) !== BLOCK_HEADER_BYTES + length + BLOCK_FOOTER_BYTES) throw new GenerationLogCorrupt(`${this.file}: garbled block length`);
    const sum = createHash('sha256').update(data.subarray(at, footer)).digest();
    if (!sum.equals(data.subarray(footer + 4, footer + BLOCK_FOOTER_BYTES))) throw new GenerationLogCorrupt(`${this.file}: a block fails its checksum`);
    return { generation: data.readDoubleLE(at + 8), payload: Buffer.from(data.subarray(at + BLOCK_HEADER_BYTES, footer)) };
  }
}

/** A block as bytes: header (magic, payload length, generation), payload, footer (block length, SHA-256 of the rest). */
function encodeBlock(block: LogBlock): Buffer {
  const out = Buffer.alloc(BLOCK_HEADER_BYTES + block.payload.length + BLOCK_FOOTER_BYTES);
  out.write(BLOCK_MAGIC, 0, 'latin1');
  out.writeUInt32LE(block.payload.length, 4);
  out.writeDoubleLE(block.generation, 8);
  block.payload.copy(out, BLOCK_HEADER_BYTES);
  const footer = BLOCK_HEADER_BYTES + block.payload.length;
  out.writeUInt32LE(out.length, footer);
  createHash('sha256')
    .update(out.subarray(0, footer))
    .digest()
    .copy(out, footer + 4);
  return out;
}
