import { constants } from 'node:fs';
import { inodeAttributeRequest, type CheckSet } from '../core/check-set.js';
import { wantsInodeAttributes, type InodeAttributeRequest } from '../core/inode-attributes.js';
import type { Observation } from '../core/observation.js';
import { hostPathOf } from '../core/path-bytes.js';
import { buildFileState, typeOfFormat, type StateExtras } from './build-file-state.js';
import type { HashFileResult, StatSnapshot } from './hash-file.js';
import { readInodeAttributes, type InodeAttributesResult } from './read-inode-attributes.js';
import type { ScanStats } from './scan-stats.js';
import type { UserNames } from './user-names.js';
import type { WalkEntry } from './walk-tree.js';

/** A walked file sent to the hash pool, and whether the baseline (the cache) has it. */
export interface HashJob {
  readonly entry: WalkEntry;
  readonly inBaseline: boolean;
}

/** What turning hash results into observations needs from the scan. */
export interface ObserveOptions {
  readonly stats: ScanStats;
  readonly names: UserNames;
  readonly rootDir?: Buffer;
}

/**
 * A followed symlink to anything but a regular file has no path of its own to read the target's attributes by
 * without following (a file has its real path): its attributes are not read.
 */
export function attributesReadable(entry: WalkEntry): boolean {
  return entry.linkTarget === undefined || entry.readPath !== undefined || entry.stat.format === constants.S_IFLNK;
}

/** Reads the inode attributes the entry's checks ask for, against the stat data its state will be stored with. */
export function attributesOf(entry: WalkEntry, stat: StatSnapshot, rootDir: Buffer | undefined): InodeAttributesResult | undefined {
  const request = requestOf(entry.root.directory.checks);
  if (request === undefined || !attributesReadable(entry)) return undefined;
  const path = entry.readPath ?? hostPathOf(entry.path, rootDir);
  return readInodeAttributes(path, typeOfFormat(stat.format), stat.ctimeNs, request);
}

// Per directory's checks, what to read (undefined: nothing), worked out once rather than for every file.
const requests = new WeakMap<CheckSet, InodeAttributeRequest | null>();

function requestOf(checks: CheckSet): InodeAttributeRequest | undefined {
  let request = requests.get(checks);
  if (request === undefined) {
    const asked = inodeAttributeRequest(checks);
    request = wantsInodeAttributes(asked) ? asked : null;
    requests.set(checks, request);
  }
  return request ?? undefined;
}

/**
 * The observations of a batch of hashed files, from the pool's results (one per job, in order), counted in
 * `stats`: a file gone since the walk is a deletion (of a baseline entry), a file read with a problem carries it.
 */
export function observationsOf(jobs: readonly HashJob[], results: readonly HashFileResult[], options: ObserveOptions): Observation[] {
  const out: Observation[] = [];
  jobs.forEach((job, i) => {
    const result = results[i];
    if (result === undefined) return;
    const { entry, inBaseline } = job;
    const checks = entry.root.directory.checks;
    if (!result.ok && result.issue.code === 'vanished') {
      // Gone between the walk and the read: for the baseline it is a deletion like any other.
      options.stats.vanished++;
      if (inBaseline) out.push({ path: entry.path, checks, inBaseline });
      return;
    }
    if (result.ok) {
      options.stats.hashed++;
      if (result.issue === undefined) options.stats.bytesHashed += result.stat.size;
      else if (result.issue.code === 'too-large') options.stats.attributesOnly++;
      // Read by the worker with the content when it could; else (a file over max_file_size) here, by path.
      const attributes = result.attributes !== undefined && attributesReadable(entry) ? result.attributes : attributesOf(entry, result.stat, options.rootDir);
      const { stat, hashes, issue } = result;
      // Without conditional spreads: each made a temporary object, for every file hashed.
      const extras: StateExtras =
        issue === undefined
          ? attributes === undefined
            ? { stat, hashes }
            : { stat, hashes, attributes }
          : attributes === undefined
            ? { stat, hashes, issue }
            : { stat, hashes, issue, attributes };
      out.push({ path: entry.path, current: buildFileState(entry, options.names, extras), checks, inBaseline });
      return;
    }
    options.stats.issues++;
    if (options.stats.issueSamples.length < 20) options.stats.issueSamples.push({ path: entry.path, issue: result.issue });
    const extras =
      result.stat === undefined
        ? { issue: result.issue }
        : { stat: result.stat, issue: result.issue, ...(result.hashes === undefined ? {} : { hashes: result.hashes }) };
    out.push({ path: entry.path, current: buildFileState(entry, options.names, extras), checks, inBaseline });
  });
  return out;
}
