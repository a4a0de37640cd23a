/**
 * Entry point of the thread that builds a known-hash database's Bloom filters and digest index when a long-running
 * reader (the manager) found none current: on its own connection it builds and saves what it is asked for, with the
 * store's own code, then exits. The reader keeps answering from SQL meanwhile and takes up the saved files after.
 */
import { workerData } from 'node:worker_threads';
import { SqliteKnownHashStore } from './sqlite-known-hash-store.js';

const { path, bloom, digestIndex } = workerData as { path: string; bloom: boolean; digestIndex: boolean };
const store = SqliteKnownHashStore.open(path, { bloom, digestIndex, build: 'now' });
await store.close();
