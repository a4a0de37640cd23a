import type { KnownHashRow, KnownHashStore } from '../known-hash-store.js';
import { importRows, type ImportCounts, type ImportProgress } from './import-rows.js';
import { digestFromHex, inBatches, readLines } from './read-lines.js';

/** What a hash-list import read. */
export interface HashListImportSummary extends ImportCounts {
  readonly format: 'plain' | 'malwarebazaar-csv';
  readonly malformed: number;
}

/**
 * Imports a list of bare hashes: one per line (`#` comments, a label after the hash allowed), or a MalwareBazaar
 * CSV export (its header, itself commented out, names the `sha256_hash`, `md5_hash` and `sha1_hash` columns; the
 * `signature` or `file_name` becomes the label). `bad` marks them known-bad; otherwise they are hash-only
 * known content (`manual`).
 */
export async function importHashList(
  store: KnownHashStore,
  options: { readonly file: string; readonly bad: boolean; readonly onProgress?: ImportProgress },
): Promise<HashListImportSummary> {
  let malformed = 0;
  let columns: Map<string, number> | undefined;
  async function* rows(): AsyncGenerator<KnownHashRow> {
    for await (const raw of readLines(options.file)) {
      const line = raw.toString('utf8').trim();
      if (line.includes('"sha256_hash"')) {
        columns = new Map(parseCsvLine(line.replace(/^#\s*/, '')).map((name, i) => [name, i]));
        continue;
      }
      if (line === '' || line.startsWith('#')) continue;
      const entries = columns === undefined ? plainEntry(line) : csvEntries(line, columns);
      if (entries.length === 0) malformed++;
      for (const { digest, label } of entries) {
        yield { digest, ...(options.bad ? { bad: true } : {}), ...(label === undefined || label === '' ? {} : { label }) };
      }
    }
  }
  const counts = await importRows(store, { kind: 'manual', name: options.file }, inBatches(rows()), options.onProgress, { bulk: true });
  return { ...counts, format: columns === undefined ? 'plain' : 'malwarebazaar-csv', malformed };
}

function plainEntry(line: string): { digest: Buffer; label?: string }[] {
  const [hex = '', ...rest] = line.split(/[\s,;:]+/);
  const digest = digestFromHex(hex);
  if (digest === undefined) return [];
  const label = rest.join(' ').trim();
  return [label === '' ? { digest } : { digest, label }];
}

function csvEntries(line: string, columns: ReadonlyMap<string, number>): { digest: Buffer; label?: string }[] {
  const fields = parseCsvLine(line);
  const field = (name: string): string => fields[columns.get(name) ?? -1]?.trim() ?? '';
  const label = field('signature') !== '' && field('signature') !== 'n/a' ? field('signature') : field('file_name');
  return ['sha256_hash', 'sha1_hash', 'md5_hash'].flatMap((name) => {
    const digest = digestFromHex(field(name));
    return digest === undefined ? [] : [{ digest, label }];
  });
}

/** Splits one CSV line with double-quoted fields ("" inside quotes is a quote). */
export function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}
