import { joinPath, pathFromString } from '../../core/path-bytes.js';
import type { KnownHashRow, KnownHashStore } from '../known-hash-store.js';
import { importRows, type ImportCounts, type ImportProgress } from './import-rows.js';
import { digestFromHex, inBatches, readLines } from './read-lines.js';

/** What a manifest import read. */
export interface ManifestImportSummary extends ImportCounts {
  readonly malformed: number;
}

/**
 * Imports a checksum manifest: the output of `sha256sum`, `sha1sum` or `md5sum` (`HASH  PATH`, `HASH *PATH`, and
 * the backslash-escaped form GNU uses for names with newlines or backslashes), or BSD-style `SHA256 (PATH) = HASH`.
 * Relative paths are taken below `base`. As `--bad`, the hashes are known-bad instead.
 */
export async function importManifest(
  store: KnownHashStore,
  options: { readonly file: string; readonly base: string; readonly bad: boolean; readonly onProgress?: ImportProgress },
): Promise<ManifestImportSummary> {
  let malformed = 0;
  const base = pathFromString(options.base);
  async function* rows(): AsyncGenerator<KnownHashRow> {
    for await (const line of readLines(options.file)) {
      if (line.length === 0 || line[0] === 0x23) continue;
      const parsed = parseManifestLine(line);
      if (parsed === undefined) {
        malformed++;
        continue;
      }
      const path =
        parsed.path[0] === 0x2f ? parsed.path : joinPath(base, parsed.path.toString('latin1').startsWith('./') ? parsed.path.subarray(2) : parsed.path);
      yield options.bad ? { digest: parsed.digest, bad: true, label: path.toString('utf8') } : { digest: parsed.digest, path };
    }
  }
  const counts = await importRows(store, { kind: 'manifest', name: options.file }, inBatches(rows()), options.onProgress);
  return { ...counts, malformed };
}

/** Parses one manifest line, GNU or BSD style; `undefined` when it is neither. */
export function parseManifestLine(line: Buffer): { digest: Buffer; path: Buffer } | undefined {
  const text = line.toString('latin1');
  const bsd = /^(MD5|SHA1|SHA256) \((.*)\) = ([0-9a-fA-F]+)$/.exec(text);
  if (bsd !== null) {
    const digest = digestFromHex(bsd[3] ?? '');
    return digest === undefined ? undefined : { digest, path: Buffer.from(bsd[2] ?? '', 'latin1') };
  }
  const escaped = text.startsWith('\\');
  const body = escaped ? text.slice(1) : text;
  const space = body.indexOf(' ');
  if (space < 32) return undefined;
  const digest = digestFromHex(body.slice(0, space));
  const mode = body[space + 1];
  if (digest === undefined || (mode !== ' ' && mode !== '*')) return undefined;
  let name = body.slice(space + 2);
  // GNU coreutils escapes a name with a newline or backslash and marks the line with a leading backslash.
  if (escaped) name = name.replace(/\\(\\|n|r)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : '\\'));
  return name === '' ? undefined : { digest, path: Buffer.from(name, 'latin1') };
}
