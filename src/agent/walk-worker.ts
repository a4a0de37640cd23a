/**
 * Entry point of the walk thread: walks the scope it is given (readdir + lstat, in key order) and posts the
 * items in packed chunks, as many as the scan has asked for (`credit`), so it stays ahead of the scan without
 * filling memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileScanScope } from '../core/scan-scope.js';
import { parseMountInfo } from './mount-table.js';
import { transferablesOf, WalkChunkWriter } from './walk-chunk.js';
import { applyThreadPriority } from './thread-priority.js';
import type { WalkThreadData, WalkThreadMessage } from './threaded-walk.js';
import { walkTree } from './walk-tree.js';

const data = workerData as WalkThreadData;
// What cannot be applied (no CAP_SYS_NICE to go below the service's nice value) the agent has said already.
if (data.priority !== undefined) applyThreadPriority(data.priority);
const scope = compileScanScope(data.syscheck, data.limitTo);
const mounts = parseMountInfo(data.mountText, data.skip);
const items = walkTree(scope, { mounts, ...(data.rootDir === undefined ? {} : { rootDir: Buffer.from(data.rootDir, 'latin1') }) });
const writer = new WalkChunkWriter(scope.roots, data.chunkItems);
let finished = false;

function post(message: WalkThreadMessage, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

parentPort?.on('message', (credit: number) => {
  try {
    for (let sent = 0; sent < credit && !finished; sent++) {
      while (!writer.full) {
        const next = items.next();
        if (next.done === true) {
          finished = true;
          break;
        }
        writer.add(next.value);
      }
      const chunk = writer.finish();
      post({ kind: 'chunk', chunk, done: finished }, transferablesOf(chunk));
    }
  } catch (error) {
    finished = true;
    post({ kind: 'failed', message: (error as Error).stack ?? String(error) });
  }
});
