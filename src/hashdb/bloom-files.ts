import { renameSync, statSync } from 'node:fs';
import { readFileStart } from '../platform/read-file-start.js';
import { BloomFilter } from './bloom-filter.js';
import { GenerationLog, GenerationLogCorrupt, type LogBlock } from './generation-log.js';
import { readFileNoFollow, writeFileNoFollow } from '../platform/no-follow-flags.js';

/** The Bloom filters of the known and known-bad digests, and the database generation they describe. */
export interface Blooms {
  readonly known: BloomFilter;
  readonly bad: BloomFilter;
  generation: number;
}

/** The digests one import added to each list: what a log block holds. */
export interface AddedDigests {
  readonly known: readonly Buffer[];
  readonly bad: readonly Buffer[];
}

/** Where the saved log ends, read from its header and last block only. */
export interface SavedTail {
  /** The generation the log's last block brings a reader to. */
  readonly generation: number;
  /** Bytes of the two base files (0 when missing), and of the log. */
  readonly baseBytes: number;
  readonly logBytes: number;
}

const LOG_MAGIC = 'CBLL';
const FILTER_HEADER_BYTES = 32;

/**
 * The filters as saved beside a known-hash database: two base files (`<db>.bloom`, `<db>.bad.bloom`, whole
 * filters tagged with the generation they were saved at) and a log (`<db>.bloom.log`, see `GenerationLog`) of the
 * digests each later import added, block by block. A reader loads the bases and adds the logged digests past
 * their generation; an import appends its own digests only, so it writes what it added, not the 188 MB of filters
 * of 100M rows. The log applies to bases saved at any generation its chain reaches (adding a digest twice changes
 * nothing), so a rebuild from a snapshot keeps the blocks appended while it ran.
 */
export class BloomFiles {
  readonly files: readonly [known: string, bad: string];
  readonly log: GenerationLog;

  constructor(databasePath: string) {
    this.files = [`${databasePath}.bloom`, `${databasePath}.bad.bloom`];
    this.log = new GenerationLog(`${databasePath}.bloom.log`, LOG_MAGIC);
  }

  /**
   * The saved filters brought to `generation` (the database's), or `undefined` when they are missing, stale, of
   * two generations, or their log does not reach it. A log that fails its checksums is removed, never believed.
   */
  read(generation: number): Blooms | undefined {
    const read = (file: string): { filter: BloomFilter; generation: number } | undefined => {
      try {
        const data = readFileNoFollow(file);
        const saved = savedGeneration(data);
        const filter = saved === undefined ? undefined : BloomFilter.deserialize(data, saved);
        return filter === undefined ? undefined : { filter, generation: saved as number };
      } catch {
        return undefined; // missing or unreadable: the same as stale
      }
    };
    const known = read(this.files[0]);
    const bad = read(this.files[1]);
    if (known === undefined || bad === undefined || known.generation !== bad.generation) return undefined;
    const blooms: Blooms = { known: known.filter, bad: bad.filter, generation: known.generation };
    if (blooms.generation === generation) return blooms;
    const blocks = this.since(blooms.generation);
    if (blocks === undefined) return undefined;
    applyBlocks(blooms, blocks);
    return blooms.generation === generation ? blooms : undefined;
  }

  /**
   * The logged blocks that bring filters of `generation` on (to the log's end), or `undefined` when the log does
   * not reach it from a base at or before it. A log that fails its checksums is removed.
   */
  since(generation: number): readonly LogBlock[] | undefined {
    let contents;
    try {
      contents = this.log.read();
    } catch (error) {
      if (!(error instanceof GenerationLogCorrupt)) throw error;
      this.log.remove();
      return undefined;
    }
    if (contents === undefined || contents.baseGeneration > generation || contents.generation < generation) return undefined;
    return contents.blocks.filter((b) => b.generation > generation);
  }

  /**
   * Where the log ends (what an import appends to), cheaply; `undefined` when there is no log or its last block is
   * torn or garbled (then nothing is appended: the filters stay stale until a rebuild).
   */
  tail(): SavedTail | undefined {
    let log;
    try {
      log = this.log.tail();
    } catch (error) {
      if (error instanceof GenerationLogCorrupt) return undefined;
      throw error;
    }
    const baseBytes = this.files.reduce((sum, f) => sum + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
    if (log !== undefined) return { generation: log.generation, baseBytes, logBytes: log.bytes };
    // No log (files saved by an older version, or the bench's fixture): the bases' own generation, if they agree.
    const [known, bad] = this.files.map(headerGeneration);
    return known !== undefined && known === bad ? { generation: known, baseBytes, logBytes: 0 } : undefined;
  }

  /** Appends one import's digests, bringing the saved filters to `generation` (the caller saw `tail` at `generation - 1`). */
  append(generation: number, added: AddedDigests): void {
    if (statSync(this.log.file, { throwIfNoEntry: false }) === undefined) this.log.reset(generation - 1);
    this.log.append(generation, encodeDigests(added));
  }

  /**
   * Before a rebuild from a snapshot at `generation` or later: makes sure the log reaches `generation`, so the
   * imports that commit while the build reads (minutes at 100M rows) append to it and the rebuilt base is current.
   */
  startLog(generation: number): void {
    if (!this.log.reaches(generation)) this.log.reset(generation);
  }

  /**
   * Saves whole filters as the new base and starts the log over it, keeping the blocks that lead past it (a fold,
   * a rebuild, a bulk import). Until the log is rebased, its chain still reaches the new base (or readers see them stale).
   */
  save(blooms: Blooms): void {
    // Written aside and renamed: a reader never sees half a filter.
    for (const [file, bloom] of [
      [this.files[0], blooms.known],
      [this.files[1], blooms.bad],
    ] as const) {
      writeFileNoFollow(`${file}.tmp`, bloom.serialize(blooms.generation), 0o644);
      renameSync(`${file}.tmp`, file);
    }
    this.log.rebase(blooms.generation);
  }

  /** A modification stamp of the files, to tell whether anything was saved since a look. */
  stamp(): string {
    return [...this.files, this.log.file]
      .map((f) => {
        const st = statSync(f, { throwIfNoEntry: false });
        return st === undefined ? 'missing' : `${st.mtimeMs}:${st.size}`;
      })
      .join('/');
  }
}

/** Adds logged digests to filters in memory and moves their generation on (the blocks follow each other). */
export function applyBlocks(blooms: Blooms, blocks: readonly LogBlock[]): void {
  for (const block of blocks) {
    if (block.generation !== blooms.generation + 1) return;
    const added = decodeDigests(block.payload);
    for (const d of added.known) blooms.known.add(d);
    for (const d of added.bad) blooms.bad.add(d);
    blooms.generation = block.generation;
  }
}

/** A block's payload: the counts of known and bad digests, then each digest as its length and its bytes. */
export function encodeDigests(added: AddedDigests): Buffer {
  const size = 8 + [...added.known, ...added.bad].reduce((sum, d) => sum + 1 + d.length, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(added.known.length, 0);
  out.writeUInt32LE(added.bad.length, 4);
  let at = 8;
  for (const d of [...added.known, ...added.bad]) {
    if (d.length === 0 || d.length > 255) throw new RangeError(`a digest of ${d.length} bytes cannot be logged`);
    out[at] = d.length;
    d.copy(out, at + 1);
    at += 1 + d.length;
  }
  return out;
}

/** Reads a block's payload (its checksum was verified by the log). */
export function decodeDigests(payload: Buffer): AddedDigests {
  const counts = [payload.readUInt32LE(0), payload.readUInt32LE(4)] as const;
  const lists: Buffer[][] = [[], []];
  let at = 8;
  for (const [i, count] of counts.entries()) {
    for (let n = 0; n < count; n++) {
      const length = payload[at] as number;
      (lists[i] as Buffer[]).push(Buffer.from(payload.subarray(at + 1, at + 1 + length)));
      at += 1 + length;
    }
  }
  if (at !== payload.length) throw new GenerationLogCorrupt('a Bloom log block does not add up');
  return { known: lists[0] as Buffer[], bad: lists[1] as Buffer[] };
}

/** The generation in a saved filter's header, or `undefined` when it is not a filter. */
function savedGeneration(header: Buffer): number | undefined {
  return header.length >= FILTER_HEADER_BYTES && header.toString('latin1', 0, 4) === 'CBLM' ? header.readDoubleLE(16) : undefined;
}

/** The generation in a saved filter file's header, read alone (not the filter). */
function headerGeneration(file: string): number | undefined {
  const header = readFileStart(file, FILTER_HEADER_BYTES);
  return header === undefined ? undefined : savedGeneration(header);
}
