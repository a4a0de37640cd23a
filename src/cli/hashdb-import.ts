import cliProgress from 'cli-progress';
import { CustosError } from '../core/custos-error.js';
import { importApk } from '../hashdb/import/import-apk.js';
import { importDebs } from '../hashdb/import/import-debs.js';
import { importDpkg } from '../hashdb/import/import-dpkg.js';
import { importHashList } from '../hashdb/import/import-hash-list.js';
import { importManifest } from '../hashdb/import/import-manifest.js';
import { importMd5db } from '../hashdb/import/import-md5db.js';
import { importNsrl } from '../hashdb/import/import-nsrl.js';
import type { ImportProgress } from '../hashdb/import/import-rows.js';
import { importRpm } from '../hashdb/import/import-rpm.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import { EXIT } from './exit-codes.js';

/** Flags of `custos hashdb import`. */
export interface ImportFlags {
  readonly root: string;
  readonly host: string;
  readonly aptLists?: string;
  readonly keyring?: string;
  readonly base: string;
  readonly bad?: boolean;
  readonly digests: readonly ('sha256' | 'sha1' | 'md5')[];
  readonly changedOnly?: boolean;
  readonly quiet?: boolean;
  readonly json?: boolean;
}

/**
 * Runs one import and prints its summary (stderr, or JSON on stdout). Exit 1 when anything was refused (a .deb
 * that does not verify, an index whose signature or hash fails), so scripts notice.
 */
export async function runHashdbImport(store: KnownHashStore, source: string, inputs: readonly string[], flags: ImportFlags): Promise<number> {
  const started = Date.now();
  const progress = startImportProgress(source, flags.quiet === true);
  let summary: Record<string, unknown> & { rows: number; inserted: number };
  try {
    summary = await importFrom(store, source, inputs, flags, progress.update);
  } finally {
    progress.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  const refused = (summary.refused as readonly { file: string; reason: string }[] | undefined) ?? [];
  const problems = (summary.indexProblems as readonly string[] | undefined) ?? [];
  if (flags.json === true) process.stdout.write(`${JSON.stringify({ source, ...summary, seconds })}\n`);
  else if (flags.quiet !== true || refused.length > 0 || problems.length > 0) {
    const details = Object.entries(summary)
      .filter(([k, v]) => !['rows', 'inserted', 'refused', 'indexProblems', 'unexplained'].includes(k) && typeof v !== 'object')
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ');
    process.stderr.write(
      `custos: imported ${summary.rows} rows from ${source} (${summary.inserted} new) in ${seconds.toFixed(1)} s, ${Math.round(summary.rows / Math.max(seconds, 0.001))} rows/s${details === '' ? '' : `; ${details}`}\n`,
    );
    for (const p of problems) process.stderr.write(`custos: index not used: ${p}\n`);
    if (flags.quiet !== true)
      for (const u of (summary.unexplained as readonly string[] | undefined) ?? []) process.stderr.write(`custos: not explained (it will alert): ${u}\n`);
    for (const r of refused) process.stderr.write(`custos: refused ${r.file}: ${r.reason}\n`);
  }
  return refused.length > 0 || problems.length > 0 ? EXIT.ALERTS : EXIT.OK;
}

async function importFrom(
  store: KnownHashStore,
  source: string,
  inputs: readonly string[],
  flags: ImportFlags,
  onProgress: ImportProgress,
): Promise<Record<string, unknown> & { rows: number; inserted: number }> {
  const one = (): string => {
    if (inputs.length !== 1) throw new CustosError('USAGE', `hashdb import ${source} takes exactly one file`);
    return inputs[0] as string;
  };
  switch (source) {
    case 'dpkg':
      return { ...(await importDpkg(store, { root: flags.root, host: flags.host, changedOnly: flags.changedOnly === true, onProgress })) };
    case 'deb': {
      if (inputs.length === 0) throw new CustosError('USAGE', 'hashdb import deb takes .deb files or directories holding them');
      if ((flags.aptLists === undefined) !== (flags.keyring === undefined)) throw new CustosError('USAGE', '--apt-lists and --keyring go together');
      return {
        ...(await importDebs(store, {
          inputs,
          ...(flags.aptLists === undefined ? {} : { aptLists: flags.aptLists }),
          ...(flags.keyring === undefined ? {} : { keyring: flags.keyring }),
          onProgress,
        })),
      };
    }
    case 'rpm':
      return { ...(await importRpm(store, { root: flags.root, host: flags.host, changedOnly: flags.changedOnly === true, onProgress })) };
    case 'apk':
      return { ...(await importApk(store, { root: flags.root, host: flags.host, onProgress })) };
    case 'manifest':
      return { ...(await importManifest(store, { file: one(), base: flags.base, bad: flags.bad === true, onProgress })) };
    case 'md5db':
      return { ...(await importMd5db(store, { file: one(), onProgress })) };
    case 'nsrl':
      return { ...(await importNsrl(store, { file: one(), digests: flags.digests, onProgress })) };
    case 'hashes':
      return { ...(await importHashList(store, { file: one(), bad: flags.bad === true, onProgress })) };
    default:
      throw new CustosError('USAGE', `unknown source "${source}": use dpkg, deb, rpm, apk, manifest, md5db, nsrl or hashes`);
  }
}

/** A rows-so-far line on a TTY, updated at most five times a second. */
function startImportProgress(source: string, quiet: boolean): { update: ImportProgress; stop: () => void } {
  if (quiet || process.stderr.isTTY !== true) return { update: () => {}, stop: () => {} };
  const started = Date.now();
  const bar = new cliProgress.SingleBar({
    format: `importing ${source}: {value} rows | {rate} rows/s | {duration}s`,
    stream: process.stderr,
    hideCursor: true,
  });
  bar.start(0, 0, { rate: 0 });
  let last = 0;
  return {
    update: (rows) => {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      bar.setTotal(rows);
      bar.update(rows, { rate: Math.round(rows / Math.max((now - started) / 1000, 0.001)) });
    },
    stop: () => bar.stop(),
  };
}
