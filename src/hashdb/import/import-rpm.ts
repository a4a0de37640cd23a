import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CustosError } from '../../core/custos-error.js';
import type { KnownHashRow, KnownHashStore } from '../known-hash-store.js';
import { importRows, type ImportCounts, type ImportProgress } from './import-rows.js';
import { digestFromHex, inBatches } from './read-lines.js';

const GHOST = 64;
// rpm's PGP hash ids for FILEDIGESTALGO; a package without the tag uses MD5.
const DIGEST_LENGTH: Readonly<Record<string, number>> = { '1': 32, '2': 40, '8': 64, '(none)': 32 };
const QUERY = '[%{FILEDIGESTS}\\t%{FILEFLAGS}\\t%{=NAME}\\t%{=VERSION}-%{=RELEASE}\\t%{=ARCH}\\t%{=FILEDIGESTALGO}\\t%{FILENAMES}\\n]';

/** What an rpm import read. */
export interface RpmImportSummary extends ImportCounts {
  readonly skipped: number;
}

/**
 * Imports the file digests of every installed rpm package (`rpm -qa` with FILEDIGESTS: SHA-256 on current
 * distributions, MD5 on old ones), as host-scoped `rpm` rows. Directories, symlinks and `%ghost` files carry no
 * digest and are skipped; digests of algorithms Custos does not compute (SHA-384/512) are skipped too.
 */
export async function importRpm(
  store: KnownHashStore,
  options: { readonly root: string; readonly host: string; readonly onProgress?: ImportProgress },
): Promise<RpmImportSummary> {
  const child = spawn('rpm', ['--root', options.root, '-qa', '--qf', QUERY], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', (error) => reject(new CustosError('USAGE', `cannot run rpm (install it to import rpm databases): ${error.message}`)));
    child.on('close', resolve);
  });
  let skipped = 0;
  async function* rows(): AsyncGenerator<KnownHashRow> {
    for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
      const [hex = '', flags = '0', name = '', version = '', arch = '', algo = '(none)', ...path] = line.split('\t');
      const digest = digestFromHex(hex);
      if (digest === undefined || (Number(flags) & GHOST) !== 0 || hex.length !== DIGEST_LENGTH[algo]) {
        skipped++;
        continue;
      }
      yield { digest, path: Buffer.from(path.join('\t'), 'utf8'), package: { name, version, arch } };
    }
  }
  const counts = await importRows(store, { kind: 'rpm', name: `rpm ${options.root}`, host: options.host }, inBatches(rows()), options.onProgress);
  const code = await exited;
  if (code !== 0) throw new CustosError('USAGE', `rpm -qa failed (exit ${code}): ${Buffer.concat(stderr).toString().trim()}`);
  return { ...counts, skipped };
}
