import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { linkDigest } from '../core/content-digests.js';
import { CustosError } from '../core/custos-error.js';
import type { DeclaredMode } from '../core/declared-mode.js';
import type { PackageRef } from '../core/known-hash-policy.js';
import type { InstalledPackage, KnownHashRow, PackageUpdate } from '../core/package-state.js';

/** A host's rpm database, read once: its installed packages, and what each says about its files. */
export interface RpmDatabase {
  /** Installed packages by NEVRA (`name-version-release.arch`: several versions of one name may be installed). */
  readonly installed: ReadonlyMap<string, InstalledPackage>;
  /** The rows and owned paths of these installed packages, in one query. */
  updates(keys: readonly string[]): PackageUpdate[];
  /** The database's own stamp: it changes with every rpm transaction. */
  readonly stamp: string;
  /** Rows rpm lists but Custos cannot use: %ghost files and digests of algorithms it does not compute. */
  readonly skipped: () => number;
}

const GHOST = 64;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
// rpm's PGP hash ids for FILEDIGESTALGO; a package without the tag uses MD5.
const DIGEST_LENGTH: Readonly<Record<string, number>> = { '1': 32, '2': 40, '8': 64, '(none)': 32 };
const PACKAGES_QF = '%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{INSTALLTID}\\t%{SIGMD5}\\n';
const FILES_QF =
  '[%{=NAME}-%{=VERSION}-%{=RELEASE}.%{=ARCH}\\t%{FILEDIGESTS}\\t%{FILEFLAGS}\\t%{=FILEDIGESTALGO}\\t%{FILEMODES}\\t%{FILEUSERNAME}\\t%{FILEGROUPNAME}\\t%{FILELINKTOS}\\t%{FILENAMES}\\n]';

/**
 * Opens the rpm database under ROOT through `rpm --root` itself (its format is rpm's business: sqlite, bdb or
 * ndb). Each package's stamp is its transaction id and header digest: a reinstall or an upgrade changes it. A
 * file's row is its digest (SHA-256 on current distributions), a symlink's the digest of the target rpm ships
 * (FILELINKTOS: exactly what the package installs), and every non-directory path is owned.
 */
export function openRpmDatabase(root: string): RpmDatabase {
  const listed = runRpm(root, ['-qa', '--qf', PACKAGES_QF]);
  const stamp = stampOf(listed);
  const installed = new Map<string, InstalledPackage>();
  for (const line of listed) {
    const [name = '', version = '', arch = '', tid = '', sigmd5 = ''] = line.split('\t');
    if (name === '') continue;
    const key = `${name}-${version}.${arch}`;
    installed.set(key, { key, package: { name, version, arch }, stamp: `${tid}:${sigmd5}` });
  }
  let skipped = 0;
  return {
    installed,
    stamp,
    skipped: () => skipped,
    updates: (keys) => {
      if (keys.length === 0) return [];
      const byKey = new Map<string, { rows: KnownHashRow[]; owns: Buffer[] }>(keys.map((k) => [k, { rows: [], owns: [] }]));
      const query = keys.length === installed.size ? ['-qa'] : ['-q', ...keys];
      for (const line of runRpm(root, [...query, '--qf', FILES_QF])) {
        const [key = '', hex = '', flags = '0', algo = '(none)', mode = '0', owner = '', group = '', target = '', ...name] = line.split('\t');
        const entry = byKey.get(key);
        const pkg = installed.get(key)?.package;
        if (entry === undefined || pkg === undefined) continue;
        const path = Buffer.from(name.join('\t'), 'utf8');
        const type = Number(mode) & S_IFMT;
        if (type === S_IFDIR) continue;
        entry.owns.push(path);
        const row = rowOf(pkg, path, type, hex, algo, target, Number(flags), { mode: Number(mode) & 0o7777, owner, group });
        if (row === undefined) skipped++;
        else entry.rows.push(row);
      }
      return keys.map((key) => {
        const entry = byKey.get(key) as { rows: KnownHashRow[]; owns: Buffer[] };
        return {
          installed: installed.get(key) as InstalledPackage,
          rows: entry.rows,
          owns: entry.owns,
          counts: { md5sums: entry.rows.length, conffiles: 0, symlinks: 0, malformed: 0 },
        };
      });
    },
  };
}

function rowOf(
  pkg: PackageRef,
  path: Buffer,
  type: number,
  hex: string,
  algo: string,
  target: string,
  flags: number,
  declared: DeclaredMode,
): KnownHashRow | undefined {
  if (type === S_IFLNK) return { digest: Buffer.from(linkDigest(Buffer.from(target, 'utf8')), 'hex'), path, package: pkg };
  if (type !== S_IFREG || (flags & GHOST) !== 0 || hex.length !== DIGEST_LENGTH[algo] || !/^[0-9a-f]+$/.test(hex)) return undefined;
  // The header's mode and owner names: what rpm installs the file with.
  return { digest: Buffer.from(hex, 'hex'), path, package: pkg, declared };
}

/**
 * A stamp of the rpm database under ROOT: a digest of every installed package's name, version, architecture,
 * transaction id and header digest, as rpm lists them (its files change on every read, so their times cannot tell).
 * Every transaction changes it.
 */
export function rpmDatabaseStamp(root: string): string {
  return stampOf(runRpm(root, ['-qa', '--qf', PACKAGES_QF]));
}

function stampOf(lines: readonly string[]): string {
  return createHash('sha1')
    .update([...lines].sort().join('\n'))
    .digest('hex');
}

function runRpm(root: string, args: readonly string[]): string[] {
  const r = spawnSync('rpm', ['--root', root, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error !== undefined) throw new CustosError('USAGE', `cannot run rpm (install it to read rpm databases): ${r.error.message}`);
  if (r.status !== 0) throw new CustosError('USAGE', `rpm ${args.join(' ')} failed (exit ${String(r.status)}): ${r.stderr.trim()}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}
