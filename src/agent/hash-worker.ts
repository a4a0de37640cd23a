/**
 * Entry point of a hashing worker thread: receives batches of paths, hashes each with one synchronous read into a
 * buffer that lives as long as the worker, reads the inode attributes the batch asks for, and posts the results
 * back in the same order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { typeOfFormat } from './build-file-state.js';
import { hashFile } from './hash-file.js';
import { expectedAt, type HashBatch, type HashBatchResult, type HashedFile, type HashWorkerData } from './hash-pool.js';
import { readInodeAttributes } from './read-inode-attributes.js';
import { applyThreadPriority } from './thread-priority.js';

// What cannot be applied (no CAP_SYS_NICE to go below the service's nice value) the agent has said already.
const { priority } = (workerData ?? {}) as HashWorkerData;
if (priority !== undefined) applyThreadPriority(priority);

const READ_BUFFER_BYTES = 1 << 20;
const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

parentPort?.on('message', (batch: HashBatch) => {
  const results = batch.paths.map((latin1, i): HashedFile => {
    const expected = expectedAt(batch, i);
    const path = Buffer.from(latin1, 'latin1');
    const result = hashFile(path, {
      algorithms: batch.algorithms,
      maxBytes: batch.maxBytes,
      buffer,
      retries: batch.retries,
      ...(expected === undefined ? {} : { expected }),
    });
    // Against the stat of the read, as the main thread would have read them (see readInodeAttributes): here
    // the listxattr, ioctl and lstat of each file run beside the hashing instead of on the scan's busiest thread.
    if (batch.attributes === undefined || !result.ok) return result;
    return { ...result, attributes: readInodeAttributes(path, typeOfFormat(result.stat.format), result.stat.ctimeNs, batch.attributes) };
  });
  const reply: HashBatchResult = { id: batch.id, results };
  parentPort?.postMessage(reply);
});
