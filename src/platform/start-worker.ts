import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on `script` (from `siblingModule`). Compiled, that is a plain `new Worker`. Run from
 * source (the fast test suite, under tsx), Node 20 does not carry the parent's `--import tsx` loader into worker
 * threads, so the worker first registers tsx's loader itself and then imports its TypeScript script; a failure
 * to do so is the worker's `error` event, as any other.
 */
export function startWorker(script: URL, options: WorkerOptions = {}): Worker {
  if (!script.pathname.endsWith('.ts')) return new Worker(script, options);
  const loader = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
