import { readFileSync } from 'node:fs';
import type { SkipConfig } from '../core/config/custos-config.js';

/** File system types skipped by each `skip_*` option, as OSSEC and Wazuh define them. */
const SKIPPED_TYPES: Readonly<Record<keyof SkipConfig, readonly string[]>> = {
  proc: ['proc', 'binfmt_misc'],
  sys: ['sysfs', 'securityfs', 'debugfs', 'tracefs', 'configfs', 'cgroup', 'cgroup2', 'pstore', 'bpf', 'efivarfs', 'fusectl'],
  dev: ['devtmpfs', 'devpts', 'mqueue', 'hugetlbfs'],
  nfs: [
    'nfs',
    'nfs4',
    'cifs',
    'smb3',
    'smbfs',
    'ncpfs',
    '9p',
    'afs',
    'ceph',
    'glusterfs',
    'lustre',
    'gfs2',
    'ocfs2',
    'fuse.sshfs',
    'fuse.glusterfs',
    'davfs',
    'fuse.s3fs',
  ],
};

/** Mount points and their file system types, to skip pseudo and network file systems. */
export interface MountTable {
  /** The type of the file system mounted exactly at this path, if something is. */
  typeAt(path: Buffer): string | undefined;
  /** True when the file system mounted at this path is one the scan must not enter. */
  isSkipped(path: Buffer): boolean;
  /** Mount points of the file systems the scan must not enter. */
  readonly skippedMountPoints: readonly Buffer[];
  /** What it was parsed from: enough to rebuild the same table in another thread. */
  readonly source: { readonly text: string; readonly skip: SkipConfig };
}

/** Parses `/proc/self/mountinfo` text (mount point in field 5, type after the ` - ` separator). */
export function parseMountInfo(text: string, skip: SkipConfig): MountTable {
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const fields = line.slice(0, sep).split(' ');
    const mountPoint = fields[4];
    const fsType = line.slice(sep + 3).split(' ')[0];
    if (mountPoint === undefined || fsType === undefined) continue;
    types.set(unescapeOctal(mountPoint).toString('latin1'), fsType);
  }
  const skipped = new Set<string>();
  for (const option of Object.keys(SKIPPED_TYPES) as (keyof SkipConfig)[]) {
    if (skip[option]) for (const t of SKIPPED_TYPES[option]) skipped.add(t);
  }
  return {
    source: { text, skip },
    skippedMountPoints: [...types].filter(([, type]) => skipped.has(type)).map(([point]) => Buffer.from(point, 'latin1')),
    typeAt: (path) => types.get(path.toString('latin1')),
    isSkipped(path) {
      const type = types.get(path.toString('latin1'));
      return type !== undefined && skipped.has(type);
    },
  };
}

/** Reads this process's mount table; an unreadable one (no /proc) skips nothing. */
export function readMountTable(skip: SkipConfig): MountTable {
  try {
    return parseMountInfo(readFileSync('/proc/self/mountinfo', 'latin1'), skip);
  } catch {
    return parseMountInfo('', skip);
  }
}

// The kernel writes space, tab, newline and backslash in mount points as \040, \011, \012, \134.
function unescapeOctal(text: string): Buffer {
  const latin1 = text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return Buffer.from(latin1, 'latin1');
}
