import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageRef } from '../../core/known-hash-policy.js';
import { usrCanonical } from '../../core/usrmerge.js';
import type { KnownHashRow } from '../known-hash-store.js';
import { parseDeb822 } from './deb822.js';

/** The hashes one installed package claims, from its md5sums file and its conffiles. */
export interface DpkgPackageHashes {
  readonly package: PackageRef;
  readonly rows: readonly KnownHashRow[];
  readonly md5sumsEntries: number;
  readonly conffileEntries: number;
  /** Lines that are not `<32 hex>  <path>`, counted rather than guessed at. */
  readonly malformed: number;
}

interface StatusEntry {
  readonly version: string;
  readonly arch: string;
  readonly conffiles: readonly { readonly path: string; readonly md5: string }[];
}

/**
 * Reads a dpkg database (`ROOT/var/lib/dpkg`): every `info/*.md5sums` (MD5, two spaces, a path relative to `/`:
 * cut at fixed offsets, since paths may hold spaces) and the `Conffiles:` MD5s in `status`. Package names may
 * carry `:arch` (Multi-Arch: same). On a merged-/usr root (`bin` a symlink to `usr/bin`), `bin/x` is stored as
 * `/usr/bin/x`, the name the scanner sees. `since` skips md5sums files not modified after it (the apt hook's
 * incremental import).
 */
export function* readDpkgDatabase(root: string, since?: Date): Generator<DpkgPackageHashes> {
  const admin = join(root, 'var/lib/dpkg');
  const status = readStatus(join(admin, 'status'));
  const merged = isMergedUsr(root);
  const info = join(admin, 'info');
  const files = readdirSync(info).filter((f) => f.endsWith('.md5sums')).sort();
  const seen = new Set<string>();
  for (const file of files) {
    const full = join(info, file);
    if (since !== undefined && statSync(full).mtimeMs < since.getTime()) continue;
    const [name = '', archSuffix] = file.slice(0, -'.md5sums'.length).split(':');
    const entry = status.get(archSuffix === undefined ? name : `${name}:${archSuffix}`) ?? status.get(name);
    const pkg: PackageRef = { name, version: entry?.version ?? '', arch: archSuffix ?? entry?.arch ?? '' };
    seen.add(`${name}:${pkg.arch}`);
    const { rows, entries, malformed } = parseMd5sums(readFileSync(full), pkg, merged);
    const conffiles = conffileRows(entry, pkg, merged);
    yield { package: pkg, rows: [...rows, ...conffiles], md5sumsEntries: entries, conffileEntries: conffiles.length, malformed };
  }
  if (since !== undefined) return;
  // Packages with conffiles but no md5sums file (all their payload is configuration).
  for (const [key, entry] of status) {
    const [name = ''] = key.split(':');
    if (seen.has(`${name}:${entry.arch}`) || entry.conffiles.length === 0) continue;
    const pkg: PackageRef = { name, version: entry.version, arch: entry.arch };
    const conffiles = conffileRows(entry, pkg, merged);
    yield { package: pkg, rows: conffiles, md5sumsEntries: 0, conffileEntries: conffiles.length, malformed: 0 };
  }
}

/** Parses one md5sums file, keeping each path's exact bytes. */
export function parseMd5sums(content: Buffer, pkg: PackageRef, merged: boolean): { rows: KnownHashRow[]; entries: number; malformed: number } {
  const rows: KnownHashRow[] = [];
  let malformed = 0;
  let start = 0;
  while (start < content.length) {
    let end = content.indexOf(0x0a, start);
    if (end < 0) end = content.length;
    const line = content.subarray(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    const hex = line.toString('latin1', 0, 32);
    if (line.length < 35 || !/^[0-9a-fA-F]{32}$/.test(hex) || line[32] !== 0x20 || line[33] !== 0x20) {
      malformed++;
      continue;
    }
    const path = Buffer.concat([Buffer.from('/'), line.subarray(34)]);
    rows.push({ digest: Buffer.from(hex, 'hex'), path: merged ? usrCanonical(path) : path, package: pkg });
  }
  return { rows, entries: rows.length, malformed };
}

function conffileRows(entry: StatusEntry | undefined, pkg: PackageRef, merged: boolean): KnownHashRow[] {
  return (entry?.conffiles ?? []).map((c) => {
    const path = Buffer.from(c.path, 'utf8');
    return { digest: Buffer.from(c.md5, 'hex'), path: merged ? usrCanonical(path) : path, package: pkg };
  });
}

/** Reads `status`: version, architecture and conffile MD5s of every package that has files on disk. */
function readStatus(path: string): Map<string, StatusEntry> {
  const entries = new Map<string, StatusEntry>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return entries;
  }
  for (const stanza of parseDeb822(text)) {
    const name = stanza.get('Package');
    const state = stanza.get('Status') ?? '';
    if (name === undefined || / (not-installed|config-files)$/.test(state)) continue;
    const arch = stanza.get('Architecture') ?? '';
    const conffiles = (stanza.get('Conffiles') ?? '')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      // ' /etc/x <md5> [obsolete|remove-on-upgrade]'; 'newconffile' stands where dpkg has no hash yet.
      .filter((f): f is [string, string, ...string[]] => f.length >= 2 && /^[0-9a-f]{32}$/.test(f[1] ?? ''))
      .map(([p, md5]) => ({ path: p, md5 }));
    const entry: StatusEntry = { version: stanza.get('Version') ?? '', arch, conffiles };
    entries.set(stanza.get('Multi-Arch') === 'same' ? `${name}:${arch}` : name, entry);
  }
  return entries;
}

/** True when ROOT/bin is a symlink into usr (Debian's merged /usr). */
export function isMergedUsr(root: string): boolean {
  try {
    return lstatSync(join(root, 'bin')).isSymbolicLink() && readlinkSync(join(root, 'bin')).replace(/^\//, '') === 'usr/bin';
  } catch {
    return false;
  }
}
