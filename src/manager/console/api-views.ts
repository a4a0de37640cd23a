import { displayPath, isExactDisplay } from '../../core/path-bytes.js';
import type { AlertSummary } from '../../storage/console-queries.js';

/**
 * A path as the API shows it: `path` for reading (non-UTF-8 bytes escaped, see displayPath) and `pathB64`, the
 * exact bytes, which is what the API takes back. `pathExact` says whether `path` alone is the exact path.
 */
export function pathView(path: Buffer): { path: string; pathB64: string; pathExact: boolean } {
  return { path: displayPath(path), pathB64: path.toString('base64'), pathExact: isExactDisplay(path) };
}

/** An alert line as the API sends it. */
export function alertView(alert: AlertSummary): Record<string, unknown> {
  const { path, ack, ...rest } = alert;
  return {
    ...rest,
    ...(path === undefined ? {} : pathView(path)),
    ...(ack === undefined ? {} : { ack: { by: ack.ackedBy, at: ack.ackedAt, ...(ack.note === undefined ? {} : { note: ack.note }) } }),
  };
}

/** Reads a `pathB64` parameter: the bytes, or undefined when it is not base64 of a non-empty absolute path. */
export function pathFromB64(value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length > 0 && bytes[0] === 0x2f && !bytes.includes(0) ? bytes : undefined;
}

/** The options of a GET route that takes no parameters: it says so, and the OpenAPI document lists none. */
export const NO_QUERY = { schema: { querystring: { type: 'object', additionalProperties: false, properties: {} } } } as const;
