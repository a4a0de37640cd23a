import { createReadStream } from 'node:fs';

/** Streams a file's lines as exact bytes (no decoding), without the trailing newline (or CR of a CRLF). */
export async function* readLines(file: string): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of createReadStream(file)) {
    let data = rest.length === 0 ? (chunk as Buffer) : Buffer.concat([rest, chunk as Buffer]);
    let start = 0;
    for (let nl = data.indexOf(0x0a, start); nl >= 0; nl = data.indexOf(0x0a, start)) {
      yield trimCr(data.subarray(start, nl));
      start = nl + 1;
    }
    rest = Buffer.from(data.subarray(start));
    data = rest;
  }
  if (rest.length > 0) yield trimCr(rest);
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
