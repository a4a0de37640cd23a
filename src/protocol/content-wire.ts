import { hash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zlib } from 'node:zlib';
import { z } from 'zod';
import { DecodeError } from './decode-error.js';
import { DIFF_UNAVAILABLE_REASONS, MAX_CONTENT_BYTES, type CapturedContent } from '../core/diff/content-capture.js';

/** The most content one observation carries, uncompressed: a report_changes file past it is sent as `too-large`. */
export const MAX_WIRE_CONTENT_BYTES = MAX_CONTENT_BYTES;
/** The most content one batch carries, uncompressed: the agent ends a batch early to stay under it. */
export const MAX_BATCH_CONTENT_BYTES = 16 << 20;
// Brotli never grows text by more than a few bytes per 64 KiB; base64 adds a third.
const MAX_WIRE_CONTENT_BASE64 = Math.ceil(((MAX_WIRE_CONTENT_BYTES + 4096) * 4) / 3) + 4;

/**
 * A changed report_changes file's new content on the wire (observation field `d`): brotli-compressed bytes `z`
 * (base64) with their size `n` and SHA-256 `h`, or the reason `r` there are none (and a detail `t`, and for
 * `too-large` the limit `l` the agent applied).
 */
export const WireContent = z.union([
  z
    .object({
      z: z
        .string()
        .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64')
        .max(MAX_WIRE_CONTENT_BASE64, `content is at most ${MAX_WIRE_CONTENT_BYTES} bytes`),
      n: z.number().int().min(0).max(MAX_WIRE_CONTENT_BYTES),
      h: z.string().regex(/^[0-9a-f]{64}$/),
    })
    .strict(),
  z
    .object({
      r: z.enum(DIFF_UNAVAILABLE_REASONS),
      t: z
        .string()
        .max(256)
        .regex(/^[^\p{Cc}]*$/u, 'expected one line of printable text')
        .optional(),
      // too-large: the size limit the agent applied.
      l: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    })
    .strict(),
]);
export type WireContent = z.infer<typeof WireContent>;

/** Encodes captured content for the wire (brotli at a middle quality: most of the gain for a fraction of the time). */
export function encodeContent(content: CapturedContent): WireContent {
  if (content.kind === 'none') {
    return {
      r: content.reason,
      ...(content.detail === undefined ? {} : { t: content.detail.slice(0, 256).replace(/\p{Cc}/gu, ' ') }),
      ...(content.limitBytes === undefined ? {} : { l: content.limitBytes }),
    };
  }
  const packed = brotliCompressSync(content.bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: content.bytes.length } });
  return { z: packed.toString('base64'), n: content.bytes.length, h: content.sha256 };
}

/**
 * Decodes content an agent sent, refusing (`DecodeError`, so the batch is refused with its reason) anything that
 * does not decompress, decompresses past its declared size (never more than {@link MAX_WIRE_CONTENT_BYTES} is
 * inflated: a compression bomb stops there), or whose SHA-256 is not the one declared and, when the state has
 * one, the state's.
 */
export function decodeContent(wire: WireContent, stateSha256: string | undefined): CapturedContent {
  if ('r' in wire) {
    return {
      kind: 'none',
      reason: wire.r as Extract<CapturedContent, { kind: 'none' }>['reason'],
      ...(wire.t === undefined ? {} : { detail: wire.t }),
      ...(wire.l === undefined ? {} : { limitBytes: wire.l }),
    };
  }
  let bytes: Buffer;
  try {
    bytes = brotliDecompressSync(Buffer.from(wire.z, 'base64'), { maxOutputLength: wire.n + 1 });
  } catch (error) {
    const tooBig = error instanceof RangeError || (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw new DecodeError(tooBig ? `observation content inflates past its declared ${wire.n} bytes` : 'observation content is not valid brotli data');
  }
  if (bytes.length !== wire.n) throw new DecodeError(`observation content is ${bytes.length} bytes, not the ${wire.n} declared`);
  const sha256 = hash('sha256', bytes, 'hex');
  if (sha256 !== wire.h) throw new DecodeError('observation content does not match its sha256');
  if (stateSha256 !== undefined && stateSha256 !== sha256) throw new DecodeError("observation content does not match the file state's sha256");
  return { kind: 'bytes', bytes, sha256 };
}
