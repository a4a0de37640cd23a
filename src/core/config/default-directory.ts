import { buildCheckSet } from '../check-set.js';
import type { DirectoryConfig } from './custos-config.js';

/**
 * A directory entry as the defaults and bare `<directories>` entries get it: everything checked. In a module of
 * its own so the scan's walk thread can compile a scope without loading the config schema (and zod).
 */
export function defaultDirectory(path: string): DirectoryConfig {
  return {
    path,
    checks: buildCheckSet({}),
    realtime: false,
    reportChanges: false,
    recursionLevel: 256,
    followSymlinks: false,
    tags: [],
    ignore: [],
  };
}
