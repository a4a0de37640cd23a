import type { SyscheckConfig } from '../core/config/custos-config.js';
import { isWithin, pathFromString } from '../core/path-bytes.js';
import type { MountTable } from './mount-table.js';

/**
 * What the realtime watcher of directory `dir` must not watch: the path `ignore` entries (global and `dir`'s own),
 * the skipped file systems (`/proc`, `/sys`, ...) and configured directories below it that are not realtime, when
 * they lie below `dir`. A watch is one inotify watch per directory: watching `/` whole would spend the host's
 * watch limit on `/proc` and `/usr` and flood the agent with events it drops. (`sregex` ignores cannot be handed
 * to the watcher; their events are dropped by the scan's scope instead.)
 */
export function realtimeIgnores(dir: string, syscheck: SyscheckConfig, mounts: MountTable): string[] {
  const root = pathFromString(dir);
  const own = syscheck.directories.find((d) => d.path === dir)?.ignore ?? [];
  const candidates = [
    ...[...syscheck.ignore, ...own].flatMap((p) => (p.kind === 'path' ? [pathFromString(p.source)] : [])),
    ...mounts.skippedMountPoints,
    ...syscheck.directories.filter((d) => !d.realtime).map((d) => pathFromString(d.path)),
  ];
  const below = candidates.filter((p) => isWithin(p, root) && !isWithin(root, p));
  return [...new Set(below.map((p) => p.toString('utf8')))];
}
