import type { HashSourceRef, KnownHashStore } from '../known-hash-store.js';
import { dpkgDatabaseStamp, openDpkgDatabase } from '../../host/dpkg-database.js';
import { goneCauses, verifySideEffects, type OwnersOf } from '../../host/dpkg-side-effects.js';
import { withObservedModes } from '../../host/observed-modes.js';
import type { PackageUpdate } from '../../core/package-state.js';
import type { ImportCounts, ImportProgress } from './import-rows.js';
import { applyInstalledState } from './installed-state.js';

/** What `custos hashdb import dpkg` read and changed. */
export interface DpkgImportSummary extends ImportCounts {
  /** Packages read: all of them, or with `changedOnly` those installed, upgraded or reinstalled since. */
  readonly packages: number;
  readonly md5sumsEntries: number;
  readonly conffileEntries: number;
  /** Symlinks of the packages' file lists, with the target dpkg left (dpkg records none). */
  readonly symlinks: number;
  /** md5sums lines that are not `<32 hex>  <path>`, counted rather than guessed at. */
  readonly malformed: number;
  /** Packages gone since the last import (removed, or only their conffiles left). */
  readonly removedPackages: number;
  /** Paths that left with a removed or upgraded package: their deletion is explained from now on. */
  readonly retiredPaths: number;
  /** Maintainer-script side effects verified (alternatives, init and systemd links, ld.so.cache). */
  readonly sideEffects: number;
  /** Side effects that did not check out: they stay unexplained and alert. */
  readonly unexplained: readonly string[];
}

/** The source a host's own dpkg database is imported as. */
export function dpkgSource(root: string, host: string): HashSourceRef {
  return { kind: 'dpkg-local', name: `dpkg ${root}`, host };
}

const LOCAL_LIBRARIES = 'local_libraries';

// Packages per transaction of a full import: bounds memory (a package's rows and paths are held until written).
const CHUNK = 100;

/**
 * Imports a host's own dpkg database as `dpkg-local`: MD5s and symlink targets claimed by that host, applying to
 * that host only (an attacker on it can rewrite them, so they rank below verified packages), with the installed
 * state behind them: which packages own which paths, which paths left with a removed or upgraded package, and the
 * side effects of maintainer scripts that check out. `changedOnly` (the dpkg hook) reads only the packages whose
 * stamp changed since the last import, and the removed ones; it is a full import the first time.
 */
export async function importDpkg(
  store: KnownHashStore,
  options: { readonly root: string; readonly host: string; readonly changedOnly?: boolean; readonly onProgress?: ImportProgress; readonly now?: Date },
): Promise<DpkgImportSummary> {
  const source = dpkgSource(options.root, options.host);
  // The hook runs after every dpkg invocation, most of which change nothing it keeps: then it is done at once.
  if (options.changedOnly === true && (await store.databaseStamp(source)) === dpkgDatabaseStamp(options.root)) {
    return {
      rows: 0,
      inserted: 0,
      packages: 0,
      md5sumsEntries: 0,
      conffileEntries: 0,
      symlinks: 0,
      malformed: 0,
      removedPackages: 0,
      retiredPaths: 0,
      sideEffects: 0,
      unexplained: [],
    };
  }
  const db = openDpkgDatabase(options.root);
  const counts = { md5sumsEntries: 0, conffileEntries: 0, symlinks: 0, malformed: 0 };
  const state = await applyInstalledState(
    store,
    source,
    {
      installed: db.installed,
      stamp: db.stamp,
      // md5sums carry no mode: the files' own, where they check out (see withObservedModes).
      updates: (keys) => keys.map((key) => observedUpdate(options.root, db.update(key))),
    },
    {
      ...options,
      chunk: CHUNK,
      onUpdates: (updated) => {
        for (const u of updated) {
          counts.md5sumsEntries += u.counts.md5sums;
          counts.conffileEntries += u.counts.conffiles;
          counts.symlinks += u.counts.symlinks;
          counts.malformed += u.counts.malformed;
        }
      },
    },
  );
  const { full } = state;
  const owners: OwnersOf = (paths) => store.ownersOf(source, paths);
  // The host's own libraries in ld.so.cache are taken as they are by an import run in full (by the operator, or
  // the first one), never by the hook's: a library planted between two package runs stays unexplained.
  const saved = await store.sourceValue(source, LOCAL_LIBRARIES);
  const trusted = new Set<string>(saved === undefined ? [] : (JSON.parse(saved) as string[]));
  const effects = await verifySideEffects(options.root, owners, full ? 'all' : trusted);
  if (full) await store.setSourceValue(source, LOCAL_LIBRARIES, JSON.stringify(effects.localLibraries));
  const gone = await goneCauses(options.root, owners, await store.derivedCauses(source));
  const derived = await store.replaceDerived(source, effects.entries, effects.absent, gone);
  return {
    rows: state.rows,
    inserted: state.inserted,
    packages: state.packages,
    ...counts,
    removedPackages: state.removedPackages,
    retiredPaths: state.retiredPaths + derived.retired,
    sideEffects: derived.rows,
    unexplained: effects.unexplained,
  };
}

/** A package's update with each file's mode and owner as found on ROOT (see withObservedModes). */
function observedUpdate(root: string, update: PackageUpdate): PackageUpdate {
  return { ...update, rows: withObservedModes(root, update.rows) };
}
