// The last step of `npm run build`: the compiled CLI (dist/src) bundled by esbuild into dist/bundle/cli/, which is
// what bin/custos.js runs. Node 20 loads ES modules one by one (resolve, read, compile, link), and a `custos check`
// loaded ~370 of them before its walk started (the app's ~185, zod's ~95, fast-xml-parser's ~30): as bundled chunks
// the same code starts ~0.2 s of CPU sooner (docs/performance.md, "Process start-up and V8").
//
// - Chunks, not one file: the commands stay lazy (`import()` in src/cli/main.ts becomes a chunk of its own), so
//   `check` still does not compile the manager.
// - One flat directory at the depth of dist/src/cli/: src/platform/package-root.ts finds the package root three
//   levels up from whichever file it lands in, and `siblingModule` finds each worker's script beside the chunk that
//   starts it. Hence the workers are entry points named as their sources are (walk-worker.js, ...).
// - External: native modules (better-sqlite3) and the packages only the services or rare commands load, which read
//   files of their own at run time (fastify, pino, pg, nodemailer) or are CommonJS trees better left whole
//   (tar-stream, cli-progress); tsx only runs the tests from source.
// - Source maps chain through tsc's to the TypeScript sources; the launcher turns them on with CUSTOS_DEBUG.
import { build } from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(repo, 'dist/bundle/cli');

/**
 * Every script a thread or process starts by file name: the CLI and each worker thread's script (`*-worker.js`
 * but the helper that starts them, found rather than listed, so a new worker cannot be left out of the bundle; test/e2e/cli-bundle.test.ts checks
 * that every `siblingModule` a source names is there).
 */
const ENTRY_POINTS = [
  'cli/main.js',
  ...readdirSync(join(repo, 'dist/src'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('-worker.js') && e.name !== 'start-worker.js')
    .map((e) => relative(join(repo, 'dist/src'), join(e.parentPath ?? e.path, e.name)))
    .sort(),
];

const EXTERNAL = [
  'better-sqlite3',
  'fastify',
  '@fastify/*',
  'pino',
  'pino-*',
  'pg',
  'nodemailer',
  'nodemailer/*',
  'tar-stream',
  'cli-progress',
  'tsx',
  'tsx/*',
];

rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: ENTRY_POINTS.map((entry) => join(repo, 'dist/src', entry)),
  outdir,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  external: EXTERNAL,
  // The CommonJS packages bundled into these ES modules (yaml, commander) call `require` for Node's own modules.
  banner: { js: "import { createRequire as __custosCreateRequire } from 'node:module'; const require = __custosCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
