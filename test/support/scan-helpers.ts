import { HashPool } from '../../src/agent/hash-pool.js';
import { parseMountInfo, readMountTable } from '../../src/agent/mount-table.js';
import { scanTree } from '../../src/agent/scan-tree.js';
import type { FingerprintChunk } from '../../src/core/fingerprint-cursor.js';
import { packFingerprints } from '../../src/core/fingerprint-page.js';
import { createScanStats, type ScanStats } from '../../src/agent/scan-stats.js';
import { readUserNames } from '../../src/agent/user-names.js';
import { walkTree, type WalkItem } from '../../src/agent/walk-tree.js';
import { defaultDirectory } from '../../src/core/config/default-directory.js';
import type { DirectoryConfig, SyscheckConfig } from '../../src/core/config/custos-config.js';
import type { FileState } from '../../src/core/file-state.js';
import type { Observation } from '../../src/core/observation.js';
import { pathKey } from '../../src/core/path-bytes.js';
import { compileScanScope } from '../../src/core/scan-scope.js';
import { storedFingerprint } from '../../src/core/state-fingerprint.js';

/** A syscheck config monitoring the given directories with defaults, as the YAML would give. */
export function syscheckFor(dirs: (string | (Partial<DirectoryConfig> & { path: string }))[], extra: Partial<SyscheckConfig> = {}): SyscheckConfig {
  return {
    disabled: false,
    directories: dirs.map((d) => (typeof d === 'string' ? defaultDirectory(d) : { ...defaultDirectory(d.path), ...d })),
    ignore: [],
    nodiff: [],
    frequencyMs: 0,
    scanOnStart: true,
    alertNewFiles: true,
    autoIgnore: { enabled: false, frequency: 10, timeframeMs: 3_600_000 },
    maxFileSizeBytes: 1024 ** 3,
    skip: { nfs: true, dev: true, proc: true, sys: true },
    ...extra,
  };
}

/** Every item a walk yields. */
export function walkAll(syscheck: SyscheckConfig, mountInfo?: string): WalkItem[] {
  const mounts = mountInfo === undefined ? readMountTable(syscheck.skip) : parseMountInfo(mountInfo, syscheck.skip);
  return [...walkTree(compileScanScope(syscheck), { mounts })];
}

/** Runs one real scan (worker pool included) against `previous` and collects every observation. */
export async function scanAll(
  syscheck: SyscheckConfig,
  previous: readonly FileState[],
  options: { rehash?: boolean; limitTo?: string[]; checkRoots?: boolean } = {},
): Promise<{ observations: Observation[]; stats: ScanStats }> {
  const pool = new HashPool(2);
  const stats = createScanStats();
  const scope = compileScanScope(syscheck, options.limitTo ?? []);
  const cached = [...previous]
    .map((state) => ({ key: pathKey(state.path), fingerprint: storedFingerprint(state) }))
    .sort((a, b) => Buffer.compare(a.key, b.key));
  // As `custos check` reads its SQLite baseline: packed pages (small ones, so merges cross page boundaries).
  async function* chunks(): AsyncGenerator<FingerprintChunk> {
    for (let i = 0; i < cached.length; i += 3) yield packFingerprints(cached.slice(i, i + 3));
  }
  const observations: Observation[] = [];
  try {
    for await (const chunk of scanTree({
      scope,
      mounts: readMountTable(syscheck.skip),
      pool,
      names: readUserNames(),
      maxFileSizeBytes: syscheck.maxFileSizeBytes,
      rehash: options.rehash ?? false,
      cache: chunks(),
      stats,
      checkRoots: options.checkRoots ?? false,
    })) {
      observations.push(...chunk);
    }
  } finally {
    await pool.close();
  }
  return { observations, stats };
}

/** The baseline a scan leaves: `previous` with each observation applied, in key order. */
export function statesAfter(observations: readonly Observation[], previous: readonly FileState[] = []): FileState[] {
  const byKey = new Map(previous.map((s) => [s.path.toString('latin1'), s]));
  for (const o of observations) {
    if (o.current === undefined) byKey.delete(o.path.toString('latin1'));
    else byKey.set(o.path.toString('latin1'), o.current);
  }
  return [...byKey.values()].sort((a, b) => Buffer.compare(pathKey(a.path), pathKey(b.path)));
}
