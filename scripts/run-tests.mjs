#!/usr/bin/env node
// Runs the test suites with node:test. Node 20's `node --test DIR` silently finds no .ts/.js files in nested
// folders the way we lay them out, and still exits 0, so the file list is built here and passed explicitly; an
// empty list is an error, never a silent pass.
//
//   node scripts/run-tests.mjs --fast     the unit tests beside the code (src/**/*.test.ts), from TypeScript
//                                         through tsx: no build needed
//   node scripts/run-tests.mjs --slow     the end-to-end and golden tests (test/**), compiled (npm run build
//                                         first): they run the real CLI, which is the compiled program
//   node scripts/run-tests.mjs FILE|DIR…  the test files given (.ts through tsx, .js as they are)
//
// Test files run side by side (CUSTOS_TEST_CONCURRENCY, default 3: most end-to-end time is spent waiting on
// real processes, sockets and timers, not on the 2 CPUs). A file that changes this machine for everyone (it runs
// apt-get or dpkg on `/`) says so with a line `// custos-test: exclusive` and runs alone, before the others.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const suites = { '--fast': { roots: ['src'], suffix: '.test.ts' }, '--slow': { roots: ['dist/test'], suffix: '.test.js' } };
const suite = suites[args[0]];
const roots = suite !== undefined ? suite.roots : args.length > 0 ? args : ['src', 'dist/test'];

const files = [];
const walk = (dir) => {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith(suite?.suffix ?? (dir.startsWith('dist') ? '.test.js' : '.test.ts'))) files.push(path);
  }
};
for (const root of roots) {
  if (/\.test\.[jt]s$/.test(root)) files.push(root);
  else walk(root);
}
if (files.length === 0) {
  console.error('run-tests: no test files found under', roots.join(', '));
  process.exit(1);
}

const exclusive = files.filter((f) => /^\/\/ custos-test: exclusive\b/m.test(readFileSync(f, 'utf8')));
const shared = files.filter((f) => !exclusive.includes(f));
const concurrency = Number(process.env.CUSTOS_TEST_CONCURRENCY ?? 3);
console.error(`run-tests: ${files.length} test files (${exclusive.length} alone, the rest ${concurrency} at a time)`);

/** Runs one node:test process over `group`; TypeScript files get tsx's loader (and their workers inherit it). */
const run = (group, n) => {
  if (group.length === 0) return 0;
  const loader = group.some((f) => f.endsWith('.ts')) ? ['--import', 'tsx'] : [];
  const result = spawnSync(process.execPath, [...loader, '--test', `--test-concurrency=${n}`, '--test-reporter=spec', ...group], { stdio: 'inherit' });
  return result.status ?? 1;
};
const alone = run(exclusive, 1);
const rest = run(shared, concurrency);
process.exit(alone !== 0 ? alone : rest);
