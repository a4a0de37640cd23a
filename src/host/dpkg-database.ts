import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { linkDigest } from '../core/content-digests.js';
import type { Diversion } from '../core/diversions.js';
import type { PackageRef } from '../core/known-hash-policy.js';
import { usrCanonical } from '../core/usrmerge.js';
import { parseDeb822 } from '../core/deb822.js';
import type { InstalledPackage, KnownHashRow, PackageUpdate } from '../core/package-state.js';

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
  readonly name: string;
  readonly version: string;
  readonly arch: string;
  readonly status: string;
  readonly conffiles: readonly { readonly path: string; readonly md5: string }[];
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
    const entry: StatusEntry = { name, version: stanza.get('Version') ?? '', arch, status: state, conffiles };
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

/**
 * False only when ROOT/bin is a real directory (a root that is not usr-merged): there `/bin/x` and `/usr/bin/x` are
 * two files, and one's package content says nothing of the other. A root without /bin (a chroot of /usr alone)
 * has nothing to confuse, so it counts as merged.
 */
export function usrAliasApplies(root: string): boolean {
  try {
    return !lstatSync(join(root, 'bin')).isDirectory();
  } catch {
    return true;
  }
}

/** A host's dpkg database, read once: its installed packages, and what each says about its files. */
export interface DpkgDatabase {
  /** Packages with files on disk (every state but not-installed and config-files), by dpkg's key. */
  readonly installed: ReadonlyMap<string, InstalledPackage>;
  /** The rows and owned paths of one installed package. */
  update(key: string): PackageUpdate;
  /** The database's own stamp: it changes with every dpkg run that changes anything. */
  readonly stamp: string;
  /** True on a merged-/usr root: package paths are kept under their /usr names. */
  readonly merged: boolean;
  /** Which installed package lists each path (canonical, latin1 keys), from every file list: one read of them all. */
  owners(): Map<string, PackageRef>;
}

/**
 * Opens the dpkg database under ROOT. Each package gets a stamp that changes whenever dpkg touches it. dpkg sets
 * the mtimes of the files it unpacks, md5sums included, from the package, so the stamp uses what an unpack cannot
 * keep: the inode and change time of the package's info files, beside its version, status and conffile hashes.
 */
export function openDpkgDatabase(root: string): DpkgDatabase {
  const admin = join(root, 'var/lib/dpkg');
  const info = join(admin, 'info');
  // Read the stamp before the status: a dpkg run in between makes the next import look again, never less.
  const stamp = dpkgDatabaseStamp(root);
  const status = readStatus(join(admin, 'status'));
  const merged = isMergedUsr(root);
  const installed = new Map<string, InstalledPackage>();
  for (const [key, entry] of status) {
    const files = infoFiles(info, entry);
    const packageStamp = createHash('sha1')
      .update([entry.version, entry.status, ...entry.conffiles.map((c) => `${c.path} ${c.md5}`), fileStamp(files.list), fileStamp(files.md5sums)].join('\n'))
      .digest('hex');
    installed.set(key, { key, package: { name: entry.name, version: entry.version, arch: entry.arch }, stamp: packageStamp });
  }
  return {
    installed,
    stamp,
    merged,
    owners: () => {
      const out = new Map<string, PackageRef>();
      for (const [key, entry] of status) {
        const pkg = installed.get(key)?.package;
        const list = readOptional(infoFiles(info, entry).list);
        if (pkg === undefined || list === undefined) continue;
        for (const listed of splitLines(list)) if (listed[0] === 0x2f) out.set((merged ? usrCanonical(listed) : listed).toString('latin1'), pkg);
      }
      return out;
    },
    update: (key) => {
      const pkg = installed.get(key);
      const entry = status.get(key);
      if (pkg === undefined || entry === undefined) throw new Error(`package ${key} is not installed`);
      return readPackageUpdate(root, merged, infoFiles(info, entry), entry, pkg);
    },
  };
}

/**
 * Everything one installed package says about its files: MD5s of its md5sums and conffiles, and every path of its
 * file list. dpkg records no symlink targets, so a listed symlink is read as dpkg just left it (the import runs
 * right after dpkg) and its target kept as the claim; listed directories are left out of ownership.
 */
function readPackageUpdate(
  root: string,
  merged: boolean,
  files: { list: string; md5sums: string },
  entry: StatusEntry,
  installed: InstalledPackage,
): PackageUpdate {
  const pkg = installed.package;
  const md5sums = readOptional(files.md5sums);
  const { rows, malformed } = md5sums === undefined ? { rows: [], malformed: 0 } : parseMd5sums(md5sums, pkg, merged);
  const conffiles = conffileRows(entry, pkg, merged);
  const hashed = new Set([...rows, ...conffiles].map((r) => (r.path as Buffer).toString('latin1')));
  const owns: Buffer[] = [];
  const links: KnownHashRow[] = [];
  const rootBytes = Buffer.from(root === '/' ? '' : root.replace(/\/+$/, ''));
  for (const listed of splitLines(readOptional(files.list) ?? Buffer.alloc(0))) {
    if (listed.length === 0 || listed[0] !== 0x2f || listed.equals(SLASH_DOT)) continue;
    const path = merged ? usrCanonical(listed) : listed;
    if (hashed.has(path.toString('latin1'))) {
      owns.push(path);
      continue;
    }
    const onDisk = Buffer.concat([rootBytes, listed]);
    let st;
    try {
      st = lstatSync(onDisk);
    } catch {
      owns.push(path); // not there (yet): still the package's
      continue;
    }
    if (st.isDirectory()) continue;
    owns.push(path);
    if (st.isSymbolicLink()) links.push({ digest: Buffer.from(linkDigest(readlinkSync(onDisk, { encoding: 'buffer' })), 'hex'), path, package: pkg });
  }
  return {
    installed,
    rows: [...rows, ...conffiles, ...links],
    owns,
    counts: { md5sums: rows.length, conffiles: conffiles.length, symlinks: links.length, malformed },
  };
}

/**
 * The package versions installed under ROOT, by package name (every state with files on disk, so a version being
 * unpacked right now counts), or undefined when there is no dpkg database there.
 */
export function readInstalledVersions(root: string): Map<string, { version: string; arch: string }[]> | undefined {
  const statusFile = join(root, 'var/lib/dpkg/status');
  if (statSync(statusFile, { throwIfNoEntry: false }) === undefined) return undefined;
  const out = new Map<string, { version: string; arch: string }[]>();
  for (const entry of readStatus(statusFile).values()) {
    const list = out.get(entry.name) ?? [];
    list.push({ version: entry.version, arch: entry.arch });
    out.set(entry.name, list);
  }
  return out;
}

/**
 * The diversions under ROOT (`var/lib/dpkg/diversions`: from, to and the diverting package, or `:` for a local
 * one, three lines each), with paths canonical on a merged-/usr root. An incomplete last group is ignored.
 */
export function readDiversions(root: string): Diversion[] {
  const content = readOptional(join(root, 'var/lib/dpkg/diversions'));
  if (content === undefined) return [];
  const merged = isMergedUsr(root);
  const lines = [...splitLines(content)];
  const out: Diversion[] = [];
  for (let i = 0; i + 2 < lines.length; i += 3) {
    const [from, to, by] = [lines[i] as Buffer, lines[i + 1] as Buffer, (lines[i + 2] as Buffer).toString('latin1')];
    out.push({ from: merged ? usrCanonical(from) : Buffer.from(from), to: merged ? usrCanonical(to) : Buffer.from(to), ...(by === ':' ? {} : { by }) });
  }
  return out;
}

/** A stamp of the package database as a whole: it changes with every dpkg run that changes anything. */
export function dpkgDatabaseStamp(root: string): string {
  // dpkg-divert changes what is where without touching the status database.
  return `${fileStamp(join(root, 'var/lib/dpkg/status'))}/${fileStamp(join(root, 'var/lib/dpkg/diversions'))}`;
}

const SLASH_DOT = Buffer.from('/.');

function infoFiles(info: string, entry: { readonly name: string; readonly arch: string }): { list: string; md5sums: string } {
  // Multi-Arch: same packages have `name:arch.*` info files; others `name.*`.
  const qualified = join(info, `${entry.name}:${entry.arch}.list`);
  const base = statSync(qualified, { throwIfNoEntry: false }) === undefined ? entry.name : `${entry.name}:${entry.arch}`;
  return { list: join(info, `${base}.list`), md5sums: join(info, `${base}.md5sums`) };
}

function fileStamp(file: string): string {
  const st = statSync(file, { bigint: true, throwIfNoEntry: false });
  return st === undefined ? 'absent' : `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

function readOptional(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function* splitLines(content: Buffer): Generator<Buffer> {
  let start = 0;
  while (start < content.length) {
    let end = content.indexOf(0x0a, start);
    if (end < 0) end = content.length;
    yield content.subarray(start, end);
    start = end + 1;
  }
}
