import { HashPool } from '../../src/agent/hash-pool.js';
import { parseMountInfo, readMountTable } from '../../src/agent/mount-table.js';
import { scanTree } from '../../src/agent/scan-tree.js';
import { createScanStats, type ScanStats } from '../../src/agent/scan-stats.js';
import { readUserNames } from '../../src/agent/user-names.js';
import { walkTree, type WalkItem } from '../../src/agent/walk-tree.js';
import { defaultDirectory } from '../../src/core/config/config-schema.js';
import type { DirectoryConfig, SyscheckConfig } from '../../src/core/config/custos-config.js';
import type { FileState } from '../../src/core/file-state.js';
import type { Observation } from '../../src/core/observation.js';
import { compileScanScope } from '../../src/core/scan-scope.js';

/** A syscheck config monitoring the given directories with defaults, as the YAML would give. */
export function syscheckFor(dirs: (string | Partial<DirectoryConfig> & { path: string })[], extra: Partial<SyscheckConfig> = {}): SyscheckConfig {
  return {
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
  options: { rehash?: boolean; limitTo?: string[] } = {},
): Promise<{ observations: Observation[]; stats: ScanStats }> {
  const pool = new HashPool(2);
  const stats = createScanStats();
  const scope = compileScanScope(syscheck, options.limitTo ?? []);
  const sorted = [...previous];
  async function* chunks(): AsyncGenerator<readonly FileState[]> {
    yield sorted;
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
      previous: chunks(),
      stats,
    })) {
      observations.push(...chunk);
    }
  } finally {
    await pool.close();
  }
  return { observations, stats };
}

/** The states a scan leaves (what a baseline would hold afterwards), in key order. */
export function statesAfter(observations: readonly Observation[]): FileState[] {
  return observations
    .flatMap((o) => (o.current === undefined ? [] : [o.current]))
    .sort((a, b) => Buffer.compare(Buffer.from(a.path.toString('latin1').replaceAll('/', '\0'), 'latin1'), Buffer.from(b.path.toString('latin1').replaceAll('/', '\0'), 'latin1')));
}
