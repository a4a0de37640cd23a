import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { packagePath } from '../../src/platform/package-root.js';
import { checkWorkspace } from '../support/check-workspace.js';
import { CUSTOS_BIN, jsonLines } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * A loader hook that appends the URL of every ES module loaded to the file named by $LOADED_LOG: which program ran,
 * and which of its modules it loaded.
 */
function moduleRecorder(dir: string): string {
  const hooks = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) { appendFileSync(process.env.LOADED_LOG, url + '\\n'); return next(url, context); }`;
  const file = join(dir, 'record-modules.mjs');
  writeFileSync(file, `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});\n`);
  return file;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function node(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC', ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI as the launcher runs it (the bundle), and the same CLI from dist/src, module by module, through a runner
 * script beside the tests' temp files (an `--eval` would pass its flags on to the worker threads).
 */
function programs(dir: string): Record<'bundle' | 'modules', (args: readonly string[]) => Run> {
  const runner = join(dir, 'run-modules.mjs');
  const main = pathToFileURL(packagePath('dist/src/cli/main.js')).href;
  writeFileSync(runner, `const { main } = await import(${JSON.stringify(main)});\nprocess.exitCode = await main(process.argv.slice(2));\n`);
  return {
    bundle: (args) => node(['--max-semi-space-size=4', CUSTOS_BIN, ...args]),
    modules: (args) => node(['--max-semi-space-size=4', runner, ...args]),
  };
}

/** What two runs of the same check can differ in and still be the same: times, alert ids, the chain hashes over them. */
function comparable(run: Run): { code: number | null; alerts: unknown[]; stderr: string } {
  const alerts = jsonLines<Record<string, unknown>>(run.stdout).map(({ timestamp: _t, id: _i, ...rest }) => rest);
  const stderr = run.stderr
    .replace(/ in \d+\.\d s: /g, ' in N s: ')
    .replace(/\(\d+\.\d MB\/s\)/g, '(N MB/s)')
    .replace(/chain hash [0-9a-f]+/g, 'chain hash H')
    .replace(/"duration_ms":\d+/g, '"duration_ms":N')
    .replace(/"chain_hash":"[0-9a-f]+"/g, '"chain_hash":"H"');
  return { code: run.code, alerts, stderr };
}

describe('the bundled CLI (scripts/bundle-cli.mjs)', () => {
  it('holds the script of every worker thread the sources start (each siblingModule they name)', () => {
    const src = packagePath('src');
    const named = new Set<string>();
    for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts')) continue;
      const text = readFileSync(join(entry.parentPath, entry.name), 'utf8');
      for (const m of text.matchAll(/siblingModule\(import\.meta\.url, '([\w-]+)'\)/g)) named.add(m[1] ?? '');
    }
    assert.ok(named.size >= 4, `workers found in the sources: ${[...named].join(', ')}`);
    for (const name of named) assert.ok(existsSync(packagePath(`dist/bundle/cli/${name}.js`)), `dist/bundle/cli/${name}.js (run npm run build)`);
  });

  it('is what bin/custos.js runs after a build: no module of dist/src is loaded', { timeout: 60_000 }, () => {
    const dir = tempDir();
    const log = join(dir, 'loaded.txt');
    const ws = checkWorkspace();
    writeFileSync(join(ws.tree, 'f'), 'a\n');
    const run = node(['--import', moduleRecorder(dir), CUSTOS_BIN, 'check', ...ws.args], { LOADED_LOG: log });
    assert.equal(run.code, 0, run.stderr);
    const loaded = readFileSync(log, 'utf8').split('\n');
    const bundle = pathToFileURL(packagePath('dist/bundle/cli/')).href;
    assert.ok(
      loaded.some((url) => url.startsWith(bundle)),
      `bin/custos.js did not run dist/bundle: it is missing or older than the last tsc build (npm run build makes it):\n${loaded.join('\n')}`,
    );
    const fromSource = pathToFileURL(packagePath('dist/src/')).href;
    assert.deepEqual(
      loaded.filter((url) => url.startsWith(fromSource)),
      [],
    );
  });

  it('checks as the modules of dist/src do: the same alerts, diffs and summary for every kind of change', { timeout: 120_000 }, () => {
    // One tree, a database for each program: both see the same files at each step.
    const ws = checkWorkspace('      report_changes: yes\n');
    const PROGRAMS = programs(tempDir());
    const dbs = { bundle: join(ws.dir, 'bundle'), modules: join(ws.dir, 'modules') };
    const args = (db: string): string[] => ['check', '--config', join(ws.dir, 'custos.yml'), '--db', join(db, 'custos.db'), '--json'];
    for (const db of Object.values(dbs)) mkdirSync(db, { mode: 0o700 });
    writeFileSync(join(ws.tree, 'edited.conf'), 'listen 80\nuser www\n');
    writeFileSync(join(ws.tree, 'gone'), 'x\n');
    writeFileSync(join(ws.tree, 'script.sh'), '#!/bin/sh\n');
    const first = { bundle: PROGRAMS.bundle(args(dbs.bundle)), modules: PROGRAMS.modules(args(dbs.modules)) };
    assert.equal(first.bundle.code, 0, first.bundle.stderr);
    assert.deepEqual(comparable(first.bundle), comparable(first.modules));

    writeFileSync(join(ws.tree, 'edited.conf'), 'listen 8080\nuser www\n');
    rmSync(join(ws.tree, 'gone'));
    writeFileSync(join(ws.tree, 'added'), 'new\n');
    chmodSync(join(ws.tree, 'script.sh'), 0o4755);
    const second = { bundle: PROGRAMS.bundle(args(dbs.bundle)), modules: PROGRAMS.modules(args(dbs.modules)) };
    assert.equal(second.bundle.code, 1, second.bundle.stderr);
    const bundled = comparable(second.bundle);
    assert.deepEqual(bundled, comparable(second.modules));
    // What the lazily loaded code made is there: an alert per change, and the content diff of the edited file.
    const paths = bundled.alerts.map((a) => (a as { syscheck: { path: string } }).syscheck.path).sort();
    assert.deepEqual(
      paths,
      ['added', 'edited.conf', 'gone', 'script.sh'].map((name) => join(ws.tree, name)),
    );
    const edited = bundled.alerts.find((a) => (a as { syscheck: { path: string } }).syscheck.path === join(ws.tree, 'edited.conf'));
    assert.match((edited as { syscheck: { diff?: string } }).syscheck.diff ?? '', /-listen 80\n\+listen 8080/);
  });

  it("is ASCII only, so that V8 keeps each chunk's source, which it holds for good, as a one-byte string", () => {
    const dir = packagePath('dist/bundle/cli');
    const scripts = readdirSync(dir).filter((name) => name.endsWith('.js'));
    assert.ok(scripts.length > 4, `scripts in ${dir}: ${scripts.join(', ')}`);
    for (const name of scripts) {
      const at = readFileSync(join(dir, name), 'utf8').search(/[^\x00-\x7f]/);
      assert.equal(at, -1, `${name}: a character outside ASCII at offset ${at}`);
    }
  });

  it("reports a bad config as the modules of dist/src do: zod's English messages with only English bundled", { timeout: 60_000 }, () => {
    const dir = tempDir();
    const config = join(dir, 'custos.yml');
    writeFileSync(config, 'syscheck:\n  frequency: [1]\n  directories:\n    - path: 5\n      check_sha256sum: maybe\n  bogus: 1\n');
    const PROGRAMS = programs(dir);
    const args = ['check', '--config', config, '--db', join(dir, 'custos.db')];
    const bundled = PROGRAMS.bundle(args);
    assert.equal(bundled.code, 2, bundled.stderr);
    assert.match(bundled.stderr, /custos\.yml:4: syscheck\.directories\[0\]\.path: Invalid input/);
    const modules = PROGRAMS.modules(args);
    assert.deepEqual({ code: bundled.code, stderr: bundled.stderr }, { code: modules.code, stderr: modules.stderr });
  });

  it('names the TypeScript source in a stack trace with CUSTOS_DEBUG (its source maps)', { timeout: 60_000 }, () => {
    const ws = checkWorkspace();
    writeFileSync(join(ws.dir, 'custos.db'), 'not a database, and long enough to be read as one\n'.repeat(100));
    const run = node([CUSTOS_BIN, 'check', ...ws.args], { CUSTOS_DEBUG: '1' });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /is damaged/);
    assert.match(run.stderr, /at \S+ \(\S+\/src\/storage\/sqlite\/open-baseline-database\.ts:\d+:\d+\)/);
  });
});
