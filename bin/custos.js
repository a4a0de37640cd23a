#!/usr/bin/env -S node --max-semi-space-size=4
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
