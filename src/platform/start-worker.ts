import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread's young generation unless its caller gives another: 4 MB semi-spaces (V8 sizes a young generation
 * as three semi-spaces), what the launcher's `--max-semi-space-size=4` gave every thread before it left workers to
 * their own limits (bin/custos.js). A smaller one costs a thread that allocates a lot more than it saves: a hashing
 * worker with 1 MB semi-spaces promotes its batch's results, and its old generation grew by as much as its young
 * one shrank (5 -> 11 MB, 2026-11-30).
 */
export const DEFAULT_YOUNG_GENERATION_MB = 12;

/**
 * Starts a worker thread on `script` (from `siblingModule`), with {@link DEFAULT_YOUNG_GENERATION_MB} of young
 * generation unless `options.resourceLimits` says otherwise. Compiled, that is a plain `new Worker`. Run from
 * source (the fast test suite, under tsx), Node 20 does not carry the parent's `--import tsx` loader into worker
 * threads, so the worker first registers tsx's loader itself and then imports its TypeScript script; a failure
 * to do so is the worker's `error` event, as any other.
 */
export function startWorker(script: URL, options: WorkerOptions = {}): Worker {
  const limited: WorkerOptions = { ...options, resourceLimits: { maxYoungGenerationSizeMb: DEFAULT_YOUNG_GENERATION_MB, ...options.resourceLimits } };
  if (!script.pathname.endsWith('.ts')) return new Worker(script, limited);
  const loader = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(loader)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(bootstrap, { ...limited, eval: true });
}
