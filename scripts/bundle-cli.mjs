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
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * zod's classic and core APIs re-export every one of its ~50 message locales (`z.locales`, 366 KB of the chunk every command
 * loads, kept as source in each process's heap); Custos uses only English, which zod sets itself. The namespace is
 * narrowed to English so a bundler cannot keep the rest.
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir) ? { path: join(args.resolveDir, '../locales/en.js'), namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

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
  plugins: [zodEnglishOnly],
});

/**
 * Escapes every character outside ASCII left in a chunk as `\uXXXX`. esbuild escapes them in strings and
 * templates but leaves them in comments and regular expressions (two comments of zod's), and V8 keeps a script's
 * source as long as its functions may be compiled: one such character makes the whole source a two-byte string,
 * so the 1 MB chunk every command loads took 2 MB of each process's heap. The escape means the same character in a
 * regular expression, a string or an identifier, and in a comment it changes only the comment. A backslash just
 * before one (a regular expression's identity escape, `\—`) would turn the escape into a literal `u`: refused.
 */
function escapeNonAscii(code, file) {
  return code.replace(/(\\*)([^\x00-\x7f])/g, (match, slashes, char) => {
    if (slashes.length % 2 === 1) throw new Error(`${file}: an escaped non-ASCII character (${JSON.stringify(match)}) cannot be rewritten as \\u`);
    return slashes + `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

for (const name of readdirSync(outdir)) {
  if (!name.endsWith('.js')) continue;
  const file = join(outdir, name);
  const code = readFileSync(file, 'utf8');
  if (/[^\x00-\x7f]/.test(code)) writeFileSync(file, escapeNonAscii(code, file));
}
