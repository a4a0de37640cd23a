#!/usr/bin/env -S node --max-semi-space-size=4 --no-short-builtin-calls
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run automatically by `npm ci`).
// A 4 MB young generation (V8's default is 16 MB per semi-space): a scan allocates a short-lived stat record and
// path per file, and with the default the resident memory of a re-check grows by ~50 MB for nothing (1 million
// files, unchanged: 194 -> 144 MB, same wall time). The price is paid once, on a first scan, which collects more
// often: ~10% more CPU (200,000 small files: 15.4-16.4 s -> 18.1-20.9 s user). Run as `node bin/custos.js` the
// flag is not applied; the npm bin link and the systemd units execute this file.
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';

// The old generation may grow by 20% between full collections instead of V8's default (up to 4x on a fast
// allocator): a scan's batches are promoted and die soon after, and with the default the heap of a first scan of
// a million files swings between 15 and 65 MB. Measured on a million files: first scan 230 -> 176 MB RSS,
// re-check 149 -> 123 MB, same wall time; 200,000 small files: 208 -> 166 MB, ~5% more CPU. Set at run time
// (the flag is read at every collection) so the worker threads get it too.
setFlagsFromString('--heap-growing-percent=20');

// The shebang's semi-space size was read when this thread's isolate was made; cleared now, so that each worker
// thread's young generation is the one startWorker gives it (V8 lets the flag override a Worker's resourceLimits):
// the hashing workers keep 4 MB semi-spaces, the walk thread, which allocates little, gets 2 MB
// (src/platform/start-worker.ts).
setFlagsFromString('--max-semi-space-size=0');

// --no-short-builtin-calls (shebang): with it on (V8's default on a machine with 4 GB or more), every isolate maps
// V8's ~1.6 MB of built-in code from the node binary into its own code range again, and RSS counts each mapping: 1.1
// MB resident per thread with an isolate. A scan has four (main, walk, two hashing workers): 48.5 -> 44.4 MB of
// file-backed RSS at a million files, CPU the same within the noise. The pages are the node binary's, shared: what
// this saves is RSS as counted (what the 150 MB target is measured in), not physical memory.

// A scan's threads (main, walk, hash workers, SQLite's and libuv's, V8's) share two malloc arenas: glibc gives each
// thread that allocates one of its own, and what is freed in one stays resident beside what is in use in the others.
// Here, before the CLI loads: by the time `check` runs its own code, loading it has made five arenas already (and
// glibc fixes its limit once there are nine). A million files, peak RSS, two runs each: first scan 157-159 -> 147-154
// MB, warm first scan 154-157 -> 150 MB, same CPU; the unchanged re-check 113-116 -> 118-119 MB (docs/performance.md).
// Without the addon (not built): glibc's default, larger, not wrong. The agent too: its own call when it starts
// (limitMallocArenas in src/agent/release-memory.ts) comes after its modules loaded, as check's would, and its unit's
// MALLOC_ARENA_MAX=2 (measured: idle 97.0 -> 86.3 MB after a scan of /etc) does not cover an agent started by hand.
if (['check', 'accept', 'agent'].includes(process.argv[2] ?? '')) limitMallocArenas();

// The CLI as bundled chunks (scripts/bundle-cli.mjs, the last step of `npm run build`): ~0.2 s of CPU less start-up
// than loading dist/src's ~370 modules one by one. A checkout where tsc compiled after the bundle was made (only
// `tsc -p .` ran) has a stale bundle: there, dist/src runs, as it did before the bundle. The package has no
// .tsbuildinfo and runs the bundle. Two stat calls; source maps (to the TypeScript) only with CUSTOS_DEBUG, which
// prints stack traces: loading them costs start-up.
if (process.env.CUSTOS_DEBUG !== undefined) process.setSourceMapsEnabled(true);
const { main } = await import(bundleIsCurrent() ? '../dist/bundle/cli/main.js' : '../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));

function limitMallocArenas() {
  try {
    createRequire(import.meta.url)('../native/fs-attrs/build/Release/fs_attrs.node').limitArenas?.(2);
  } catch {
    // As the agent's limitMallocArenas (src/agent/release-memory.ts): the addon is optional for memory housekeeping.
  }
}

function bundleIsCurrent() {
  const bundle = statSync(new URL('../dist/bundle/cli/main.js', import.meta.url), { throwIfNoEntry: false });
  const compiled = statSync(new URL('../dist/.tsbuildinfo', import.meta.url), { throwIfNoEntry: false });
  return bundle !== undefined && (compiled === undefined || bundle.mtimeMs >= compiled.mtimeMs);
}
