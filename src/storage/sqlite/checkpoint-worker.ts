/**
 * Entry point of the checkpoint thread: on its own connection, copies what the WAL holds back into the database
 * file every `intervalMs`, so the writer never stops to do it (and never waits for the fsyncs it takes).
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const { path, intervalMs } = workerData as { path: string; intervalMs: number };
const db = new Database(path, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 0');

const timer = setInterval(() => {
  try {
    // PASSIVE never blocks the writer or the readers; what it cannot copy now waits for the next turn.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked: next turn.
  }
}, intervalMs);

parentPort?.once('message', () => {
  clearInterval(timer);
  db.close();
  parentPort?.close();
});
