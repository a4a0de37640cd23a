/**
 * Entry point of a hashing worker thread: receives batches of paths, hashes each with one synchronous read into a
 * buffer that lives as long as the worker, and posts the results back in the same order, packed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { hashFile, type HashFileOptions } from './hash-file.js';
import { expectedAt, type HashBatch, type HashBatchResult, type HashWorkerData } from './hash-pool.js';
import { packHashResults } from './packed-hash-results.js';
import { applyThreadPriority } from './thread-priority.js';

// What cannot be applied (no CAP_SYS_NICE to go below the service's nice value) the agent has said already.
const { priority } = (workerData ?? {}) as HashWorkerData;
if (priority !== undefined) applyThreadPriority(priority);

const READ_BUFFER_BYTES = 1 << 20;
const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);

parentPort?.on('message', (batch: HashBatch) => {
  const { algorithms, maxBytes, retries, attributes } = batch;
  const results = batch.paths.map((latin1, i) => {
    const expected = expectedAt(batch, i);
    // Literals rather than conditional spreads, which made two temporary objects per file.
    const options: HashFileOptions =
      attributes === undefined
        ? expected === undefined
          ? { algorithms, maxBytes, buffer, retries }
          : { algorithms, maxBytes, buffer, retries, expected }
        : expected === undefined
          ? { algorithms, maxBytes, buffer, retries, attributes }
          : { algorithms, maxBytes, buffer, retries, attributes, expected };
    return hashFile(Buffer.from(latin1, 'latin1'), options);
  });
  const reply: HashBatchResult = { id: batch.id, results: packHashResults(results, batch.algorithms) };
  parentPort?.postMessage(reply);
});
