import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../../core/custos-error.js';
import type { PackageRef } from '../../core/known-hash-policy.js';
import type { KnownHashRow, KnownHashStore } from '../known-hash-store.js';
import { importRows, type ImportCounts, type ImportProgress } from './import-rows.js';

/**
 * Imports Alpine's installed database (`ROOT/lib/apk/db/installed`, apk v2: `P:` package, `V:` version, `A:` arch,
 * `F:` directory, `R:` file in it, `Z:` its checksum) as host-scoped `apk` rows. Checksums: `Q1`+base64 and
 * `X1`+hex are SHA-1, `Q2`/`X2` SHA-256, 32 bare hex digits MD5.
 */
export async function importApk(
  store: KnownHashStore,
  options: { readonly root: string; readonly host: string; readonly onProgress?: ImportProgress },
): Promise<ImportCounts> {
  const file = join(options.root, 'lib/apk/db/installed');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CustosError('USAGE', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? ''}`);
  }
  return importRows(store, { kind: 'apk', name: `apk ${options.root}`, host: options.host }, [parseApkInstalled(text)], options.onProgress);
}

/** Parses `installed` text into rows. */
export function parseApkInstalled(text: string): KnownHashRow[] {
  const rows: KnownHashRow[] = [];
  let pkg: { name?: string; version?: string; arch?: string } = {};
  let dir = '';
  let file: string | undefined;
  const ref = (): PackageRef => ({ name: pkg.name ?? '', version: pkg.version ?? '', arch: pkg.arch ?? '' });
  for (const line of text.split('\n')) {
    if (line === '') {
      pkg = {};
      dir = '';
      file = undefined;
      continue;
    }
    const key = line[0];
    const value = line.slice(2);
    if (key === 'P') pkg.name = value;
    else if (key === 'V') pkg.version = value;
    else if (key === 'A') pkg.arch = value;
    else if (key === 'F') dir = value;
    else if (key === 'R') file = value;
    else if (key === 'Z' && file !== undefined) {
      const digest = apkDigest(value);
      if (digest !== undefined) rows.push({ digest, path: Buffer.from(`/${dir === '' ? '' : `${dir}/`}${file}`, 'utf8'), package: ref() });
      file = undefined;
    }
  }
  return rows;
}

function apkDigest(value: string): Buffer | undefined {
  if (/^[0-9a-f]{32}$/i.test(value)) return Buffer.from(value, 'hex');
  const kind = value.slice(0, 2);
  const body = value.slice(2);
  const expected = kind[1] === '1' ? 20 : kind[1] === '2' ? 32 : 0;
  if (kind[0] === 'X') return new RegExp(`^[0-9a-fA-F]{${expected * 2}}$`).test(body) ? Buffer.from(body, 'hex') : undefined;
  if (kind[0] !== 'Q' || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
  const digest = Buffer.from(body, 'base64');
  return digest.length === expected ? digest : undefined;
}
