import { createReadStream } from 'node:fs';
import { CustosError } from '../../core/custos-error.js';
import { openRegularInput } from './regular-input.js';

/** The longest line an import reads: a hash list's or manifest's lines are short; a file with none is not one. */
const MAX_LINE_BYTES = 16 << 20;

/**
 * Streams a file's lines as exact bytes (no decoding), without the trailing newline (or CR of a CRLF). Linear
 * time whatever the line lengths (a line spanning many chunks is joined once, at its end), and refuses a line
 * longer than 16 MB, or an input that is not a regular file, with a clear error.
 */
export async function* readLines(file: string): AsyncGenerator<Buffer> {
  const stream = createReadStream('', { fd: openRegularInput(file) });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNumber = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      lineNumber++;
      if (pendingBytes + piece.length > MAX_LINE_BYTES) tooLong(file, lineNumber, stream);
      yield trimCr(pending.length === 0 ? piece : Buffer.concat([...pending, piece]));
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      if (pendingBytes > MAX_LINE_BYTES) tooLong(file, lineNumber + 1, stream);
    }
  }
  if (pendingBytes > 0) yield trimCr(Buffer.concat(pending));
}

function tooLong(file: string, line: number, stream: { destroy(): void }): never {
  stream.destroy();
  throw new CustosError('USAGE', `${file}: line ${line} is longer than ${MAX_LINE_BYTES >> 20} MB: not a list of hashes or paths`);
}

function trimCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line;
}

/** Groups a stream into arrays of `size` (the last one shorter). */
export async function* inBatches<T>(items: AsyncIterable<T> | Iterable<T>, size = 10_000): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of items) {
    batch.push(item);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** The raw digest of a hex string when it is an MD5, SHA-1 or SHA-256; `undefined` otherwise. */
export function digestFromHex(hex: string): Buffer | undefined {
  return /^([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$/i.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}
