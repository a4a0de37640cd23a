import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CustosError } from '../../core/custos-error.js';
import { runProgram } from '../../platform/run-program.js';
import { parseDeb822 } from '../../core/deb822.js';

/** What a signed index says one .deb must be. */
export interface IndexedDeb {
  readonly package: string;
  readonly version: string;
  readonly arch: string;
  readonly sha256: string;
  readonly size: number;
  readonly filename: string;
  /** The verified InRelease this entry came from (see {@link VerifiedRelease}). */
  readonly release: VerifiedRelease;
}

/** One InRelease whose signature verified, with the Packages indexes that matched its hashes. */
export interface VerifiedRelease {
  readonly file: string;
  readonly sha256: string;
  readonly origin: string;
  readonly suite: string;
  readonly date: string;
  readonly packages: readonly { readonly file: string; readonly sha256: string }[];
}

/** Every verified index found, and what could not be verified (with why). */
export interface AptIndex {
  readonly releases: readonly VerifiedRelease[];
  readonly problems: readonly string[];
  find(pkg: string, version: string, arch: string): readonly IndexedDeb[];
  /** The entries listing a .deb with this SHA-256 (lowercase hex): checked before the file is parsed at all. */
  findByDigest(sha256: string): readonly IndexedDeb[];
  readonly keyringSha256: string;
}

const COMPRESSIONS: Readonly<Record<string, readonly string[] | null>> = {
  '': null,
  '.lz4': ['lz4', '-dc'],
  '.xz': ['xz', '-dc'],
  '.gz': ['gzip', '-dc'],
  '.bz2': ['bzip2', '-dc'],
  '.zst': ['zstd', '-dcq'],
};

/**
 * Loads and verifies apt indexes: each `InRelease` must carry a good signature from a key in `keyring` (checked
 * by `gpgv`; only the signed text is read after that, never the file around it), must not be past its
 * `Valid-Until`, and each `Packages` index is used only if its decompressed SHA-256 is the one the signed text
 * lists. Accepts apt's flat `/var/lib/apt/lists` naming and a mirror's `dists/SUITE/...` layout. apt stores
 * indexes re-compressed (lz4 here): the signed hash is of the uncompressed text, so that is what is hashed.
 */
export async function loadAptIndex(listsDir: string, keyring: string, now: Date = new Date()): Promise<AptIndex> {
  const keyringPath = resolve(keyring);
  let keyringBytes: Buffer;
  try {
    keyringBytes = readFileSync(keyringPath);
  } catch (error) {
    throw new CustosError('USAGE', `cannot read keyring ${keyringPath}: ${(error as NodeJS.ErrnoException).code ?? ''}`);
  }
  const releases: VerifiedRelease[] = [];
  const problems: string[] = [];
  const index = new Map<string, IndexedDeb[]>();
  let byDigest: Map<string, IndexedDeb[]> | undefined;
  for (const { inRelease, packagesFile } of findReleases(resolve(listsDir))) {
    const signed = await verifySignature(inRelease, keyringPath);
    if (!signed.ok) {
      problems.push(`${inRelease}: ${signed.reason}`);
      continue;
    }
    const fields = parseDeb822(signed.text).next().value ?? new Map<string, string>();
    const validUntil = fields.get('Valid-Until');
    if (validUntil !== undefined && Date.parse(validUntil) < now.getTime()) {
      problems.push(`${inRelease}: expired (Valid-Until ${validUntil}); refusing a stale index`);
      continue;
    }
    const release = {
      file: inRelease,
      sha256: createHash('sha256').update(readFileSync(inRelease)).digest('hex'),
      origin: fields.get('Origin') ?? '',
      suite: fields.get('Codename') ?? fields.get('Suite') ?? '',
      date: fields.get('Date') ?? '',
      packages: [] as { file: string; sha256: string }[],
    };
    for (const entry of sha256Entries(fields.get('SHA256') ?? '')) {
      if (!/(^|\/)binary-[^/]+\/Packages$/.test(entry.path)) continue;
      const local = packagesFile(entry.path);
      if (local === undefined) continue;
      const text = await decompress(local);
      const digest = createHash('sha256').update(text).digest('hex');
      if (digest !== entry.sha256 || text.length !== entry.size) {
        problems.push(`${local}: does not match the SHA-256 signed in ${basename(inRelease)} for ${entry.path}`);
        continue;
      }
      release.packages.push({ file: local, sha256: digest });
      for (const stanza of parseDeb822(text.toString('utf8'))) addStanza(index, stanza, release);
    }
    releases.push(release);
  }
  return {
    releases,
    problems,
    keyringSha256: createHash('sha256').update(keyringBytes).digest('hex'),
    find: (pkg, version, arch) => index.get(`${pkg}\0${version}\0${arch}`) ?? [],
    findByDigest: (sha256) => {
      // Built on first use: most imports without --keyring never ask.
      byDigest ??= groupByDigest(index);
      return byDigest.get(sha256) ?? [];
    },
  };
}

function groupByDigest(index: ReadonlyMap<string, readonly IndexedDeb[]>): Map<string, IndexedDeb[]> {
  const out = new Map<string, IndexedDeb[]>();
  for (const entries of index.values()) for (const entry of entries) out.set(entry.sha256, [...(out.get(entry.sha256) ?? []), entry]);
  return out;
}

function addStanza(index: Map<string, IndexedDeb[]>, stanza: Map<string, string>, release: VerifiedRelease): void {
  const [pkg, version, arch, sha256, size, filename] = ['Package', 'Version', 'Architecture', 'SHA256', 'Size', 'Filename'].map((f) => stanza.get(f));
  if (pkg === undefined || version === undefined || arch === undefined || sha256 === undefined || size === undefined) return;
  const key = `${pkg}\0${version}\0${arch}`;
  const list = index.get(key) ?? [];
  list.push({ package: pkg, version, arch, sha256: sha256.toLowerCase(), size: Number(size), filename: filename ?? '', release });
  index.set(key, list);
}

interface ReleaseFiles {
  readonly inRelease: string;
  readonly packagesFile: (path: string) => string | undefined;
}

function findReleases(dir: string): ReleaseFiles[] {
  const out: ReleaseFiles[] = [];
  const withCompression = (base: string): string | undefined =>
    Object.keys(COMPRESSIONS)
      .map((ext) => base + ext)
      .find((f) => existsSync(f));
  const entries = safeReaddir(dir);
  // apt's flat lists: <host>_<path>_dists_<suite>_InRelease beside <host>_..._<suite>_main_binary-amd64_Packages.lz4
  for (const name of entries.filter((n) => n.endsWith('_InRelease'))) {
    const prefix = join(dir, name.slice(0, -'InRelease'.length));
    out.push({ inRelease: join(dir, name), packagesFile: (path) => withCompression(prefix + path.replaceAll('/', '_')) });
  }
  // A mirror or a single suite directory: InRelease beside main/binary-amd64/Packages.
  if (entries.includes('InRelease')) out.push({ inRelease: join(dir, 'InRelease'), packagesFile: (path) => withCompression(join(dir, path)) });
  for (const suite of safeReaddir(join(dir, 'dists'))) {
    const suiteDir = join(dir, 'dists', suite);
    if (existsSync(join(suiteDir, 'InRelease')))
      out.push({ inRelease: join(suiteDir, 'InRelease'), packagesFile: (path) => withCompression(join(suiteDir, path)) });
  }
  return out;
}

function sha256Entries(section: string): { sha256: string; size: number; path: string }[] {
  return section
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f): f is [string, string, string] => f.length === 3 && /^[0-9a-f]{64}$/i.test(f[0] ?? ''))
    .map(([sha256, size, path]) => ({ sha256: sha256.toLowerCase(), size: Number(size), path }));
}

/** Runs gpgv; returns the signed text only when every signature in the file is good. */
async function verifySignature(file: string, keyring: string): Promise<{ ok: true; text: string } | { ok: false; reason: string }> {
  const { code, stdout, stderr } = await runProgram('gpgv', ['--keyring', keyring, '--output', '-', file]);
  if (code === 0 && stdout.length > 0) return { ok: true, text: stdout.toString('utf8') };
  const why = stderr
    .split('\n')
    .filter((l) => /BAD signature|No public key|Can't check|no valid OpenPGP|not a detached|verify signatures failed|cannot run/i.test(l));
  return { ok: false, reason: `signature does not verify with ${keyring}${why.length > 0 ? ` (${why.join('; ').trim()})` : ''}` };
}

async function decompress(file: string): Promise<Buffer> {
  const ext = Object.keys(COMPRESSIONS).find((e) => e !== '' && file.endsWith(e)) ?? '';
  const command = COMPRESSIONS[ext];
  if (command === null || command === undefined) return readFileSync(file);
  const [tool = '', ...args] = command;
  const { code, stdout, stderr } = await runProgram(tool, [...args, file]);
  if (code !== 0) throw new CustosError('USAGE', `cannot decompress ${file}: ${stderr.trim()}`);
  return stdout;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
