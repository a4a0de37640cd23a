import { closeSync, constants, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { CustosError } from '../core/custos-error.js';
import { sealHead, type SealedHead } from '../core/history-seal.js';
import type { Store } from './store.js';

/** What the last check left: a baseline, and the end of the history chain then. */
export interface HistoryMarker {
  readonly agentId: string;
  /** True once a baseline was built: a database without one has lost it. */
  readonly baseline: boolean;
  /** History records in the chain then, and the last one's id and chain hash (absent while the history is empty). */
  readonly length: number;
  readonly lastId?: number;
  readonly lastHash?: string;
  readonly at: string;
  /** `StateDigest` of the baseline when the check ended (absent in markers written between its commits). */
  readonly baselineDigest?: string;
  /** With a history key: HMAC-SHA256 of the head and baseline digest above (`sealHead`). */
  readonly signature?: string;
}

/** What else a marker carries: the baseline's digest, and the key that signs the head. */
export interface MarkerSeal {
  readonly key?: Buffer;
  readonly baselineDigest?: string;
}

/** The marker of a database: a small file beside it (`DB.head`). */
export function markerPath(databasePath: string): string {
  return `${databasePath}.head`;
}

/** Reads the marker; `undefined` when there is none (a database never checked, or from before markers). */
export function readHistoryMarker(databasePath: string): HistoryMarker | undefined {
  let text: string;
  try {
    const fd = openSync(markerPath(databasePath), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CustosError('STORE_CORRUPT', `cannot read ${markerPath(databasePath)}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as HistoryMarker;
    if (typeof parsed.agentId !== 'string' || typeof parsed.length !== 'number' || typeof parsed.baseline !== 'boolean') throw new Error('missing fields');
    return parsed;
  } catch (error) {
    throw new CustosError(
      'STORE_CORRUPT',
      `${markerPath(databasePath)} is not a Custos history marker (${(error as Error).message}); restore it, or remove it to accept the database as it is`,
    );
  }
}

/** Writes the marker for the store's state now, atomically (a new file renamed over the old, synced first). */
export async function writeHistoryMarker(databasePath: string, store: Store, agentId: string, at: string, seal: MarkerSeal = {}): Promise<HistoryMarker> {
  const head = await store.chainHead(agentId);
  const baseline = (await store.scannedRoots(agentId)).length > 0;
  const sealed: SealedHead = {
    agentId,
    length: head?.length ?? 0,
    ...(head === undefined ? {} : { lastId: head.lastId, lastHash: head.lastHash }),
    ...(seal.baselineDigest === undefined ? {} : { baselineDigest: seal.baselineDigest }),
  };
  const marker: HistoryMarker = { ...sealed, baseline, at, ...(seal.key === undefined ? {} : { signature: sealHead(seal.key, sealed) }) };
  const path = markerPath(databasePath);
  const temporary = `${path}.${process.pid}.tmp`;
  const fd = openSync(temporary, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o640);
  try {
    writeSync(fd, `${JSON.stringify(marker)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  return marker;
}

/**
 * What the store lost against the marker, in words, or `undefined` when it holds at least what the marker says:
 * the baseline, and the marker's last record still in its chain with the same hash (records after it are those a
 * run committed after writing the marker, or a run that crashed before writing it).
 */
export async function lostAgainstMarker(store: Store, marker: HistoryMarker): Promise<string | undefined> {
  const head = await store.chainHead(marker.agentId);
  const length = head?.length ?? 0;
  if (marker.baseline && (await store.scannedRoots(marker.agentId)).length === 0) {
    return `the last check left a baseline and ${marker.length} history records (at ${marker.at}); the database now has no baseline and ${length} records`;
  }
  if (length < marker.length) {
    return `the last check left ${marker.length} history records (at ${marker.at}); the database now holds ${length}: ${marker.length - length} committed records were lost`;
  }
  if (marker.lastId !== undefined && marker.lastHash !== undefined) {
    const hash = await store.eventHash(marker.agentId, marker.lastId);
    if (hash !== marker.lastHash) {
      return `history record ${marker.lastId}, the last one when the last check ended (at ${marker.at}), is ${hash === undefined ? 'gone' : 'not the same record'}: the history was rewritten or rolled back`;
    }
  }
  return undefined;
}
