/**
 * The yardstick for Custos's first scan: the least a Node program can do to walk a tree, lstat every entry and
 * compute MD5, SHA-1 and SHA-256 of every regular file, with one hashing worker per core (sync reads into one
 * reused buffer). It keeps no attributes, writes no database and handles no edge case: nothing real can be
 * faster in Node. Run: node dist/bench/floor-scan.js DIR
 */
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const BATCH = 256;

if (!isMainThread) {
  const buffer = Buffer.allocUnsafe(1 << 20);
  parentPort?.on('message', (paths: string[]) => {
    let bytes = 0;
    for (const path of paths) {
      let fd: number;
      try {
        fd = openSync(path, 'r');
      } catch {
        continue;
      }
      const hashes = [createHash('md5'), createHash('sha1'), createHash('sha256')];
      for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) {
        for (const h of hashes) h.update(buffer.subarray(0, n));
        bytes += n;
      }
      closeSync(fd);
      for (const h of hashes) h.digest();
    }
    parentPort?.postMessage(bytes);
  });
} else if (workerData === null) {
  const root = process.argv[2] ?? '.';
  const workers = Array.from({ length: availableParallelism() }, () => new Worker(new URL(import.meta.url)));
  const queue: string[][] = [];
  let pending = 0;
  let files = 0;
  let bytes = 0;
  let walked = false;
  const idle: Worker[] = [...workers];
  const dispatch = (): void => {
    while (idle.length > 0 && queue.length > 0) {
      const w = idle.pop() as Worker;
      pending++;
      w.postMessage(queue.shift());
    }
    if (walked && pending === 0 && queue.length === 0) {
      for (const w of workers) void w.terminate();
      console.log(JSON.stringify({ files, bytes }));
    }
  };
  for (const w of workers) {
    w.on('message', (n: number) => {
      bytes += n;
      pending--;
      idle.push(w);
      dispatch();
    });
  }
  let batch: string[] = [];
  const stack = [root];
  // The walk runs in slices so worker replies are handled while it goes on.
  const walkSlice = (): void => {
    let steps = 0;
    while (stack.length > 0 && steps++ < 200) {
      const dir = stack.pop() as string;
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const path = join(dir, name);
        const st = lstatSync(path, { throwIfNoEntry: false });
        if (st === undefined) continue;
        if (st.isDirectory()) stack.push(path);
        else if (st.isFile()) {
          files++;
          batch.push(path);
          if (batch.length >= BATCH) {
            queue.push(batch);
            batch = [];
            dispatch();
          }
        }
      }
    }
    if (stack.length > 0) setImmediate(walkSlice);
    else {
      if (batch.length > 0) queue.push(batch);
      walked = true;
      dispatch();
    }
  };
  walkSlice();
}
