// `npm run package`: builds custos_<version>_amd64.deb from the compiled tree (run `npm run build` first; the
// npm script does). Everything runs from inside the package: the Node.js runtime that built the native modules
// (copied from this machine), the production node_modules, the bundled CLI (dist/bundle) and the rules, under /opt/custos; a wrapper
// in /usr/bin; the systemd units; /etc/custos/custos.yml as a conffile; logrotate rules; a man page and bash
// completion generated from the CLI's own help. Needs dpkg-deb (and ldd to check the runtime's libraries).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bashCompletion } from './package/bash-completion.mjs';
import { helpTree } from './package/cli-help-tree.mjs';
import { manPage } from './package/man-page.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
const outDir = resolve(process.argv[2] ?? join(repo, 'build'));
const stage = join(outDir, 'deb-root');
const opt = join(stage, 'opt/custos');

/** The shared libraries the runtime links against, mapped to the Debian packages that ship them. */
const LIBRARY_PACKAGES = [
  [/^libc\.so|^libm\.so|^libdl\.so|^libpthread\.so|^ld-linux/, 'libc6 (>= 2.28)'],
  [/^libstdc\+\+\.so/, 'libstdc++6 (>= 10)'],
  [/^libgcc_s\.so/, 'libgcc-s1'],
];

function run(program, args, options = {}) {
  return execFileSync(program, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...options });
}

/** Depends: from the runtime's (and the native modules') own ldd output; an unmapped library stops the build. */
function dependsOf(binaries) {
  const depends = new Set();
  for (const binary of binaries) {
    for (const line of run('ldd', [binary]).split('\n')) {
      const name = line.trim().split(/\s+/)[0];
      if (name === undefined || name === '' || name === 'statically' || name.startsWith('linux-vdso') || name.startsWith('/lib64/ld-linux')) continue;
      const found = LIBRARY_PACKAGES.find(([pattern]) => pattern.test(name));
      if (found === undefined) throw new Error(`${binary} links ${name}: say which Debian package ships it (LIBRARY_PACKAGES)`);
      depends.add(found[1]);
    }
  }
  return [...depends].sort();
}

/** The production dependencies, as npm resolved them (no dev tools, no build leftovers of native modules). */
function copyProductionModules() {
  const dirs = run('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repo })
    .split('\n')
    .filter((line) => line !== '' && line !== repo);
  for (const dir of dirs) {
    const rel = relative(repo, dir);
    const native = existsSync(join(dir, 'binding.gyp'));
    cpSync(dir, join(opt, rel), { recursive: true, filter: (source) => shipped(relative(dir, source), native) });
  }
}

/**
 * Whether a file of a package directory is shipped: nested node_modules are listed (and copied) on their own, and of
 * a native module's build tree only the compiled module itself (not its sources, objects or vendored SQLite).
 */
function shipped(inside, native) {
  if (/^node_modules(\/|$)/.test(inside)) return false;
  if (!native) return true;
  if (/^(deps|src)(\/|$)/.test(inside)) return false;
  if (/^build\//.test(inside)) return /^build\/Release(\/(?!test_)[^/]+\.node)?$/.test(inside);
  return true;
}

rmSync(stage, { recursive: true, force: true });
mkdirSync(opt, { recursive: true });

// The program: the bundled CLI (scripts/bundle-cli.mjs; what the launcher runs, dist/src is not shipped) with its
// source maps (CUSTOS_DEBUG stack traces name the TypeScript lines), the launcher, the built-in rules, the manifest.
if (!existsSync(join(repo, 'dist/bundle/cli/main.js'))) throw new Error('dist/bundle/cli/main.js is missing: run npm run build');
cpSync(join(repo, 'dist/bundle'), join(opt, 'dist/bundle'), { recursive: true });
// The web console's bundle, which the manager serves from dist/console (beside dist/bundle).
cpSync(join(repo, 'dist/console'), join(opt, 'dist/console'), { recursive: true });
cpSync(join(repo, 'bin/custos.js'), join(opt, 'bin/custos.js'));
cpSync(join(repo, 'rules'), join(opt, 'rules'), { recursive: true });
// Custos's own native addon (extended attributes, capabilities, ACLs, inode flags), where dist/ looks for it.
mkdirSync(join(opt, 'native/fs-attrs/build/Release'), { recursive: true });
copyFileSync(join(repo, 'native/fs-attrs/build/Release/fs_attrs.node'), join(opt, 'native/fs-attrs/build/Release/fs_attrs.node'));
writeFileSync(
  join(opt, 'package.json'),
  `${JSON.stringify({ name: pkg.name, version: pkg.version, type: pkg.type, license: pkg.license, dependencies: pkg.dependencies }, null, 2)}\n`,
);
copyProductionModules();

// The runtime: this machine's node, the one the native modules were compiled against.
mkdirSync(join(opt, 'node/bin'), { recursive: true });
copyFileSync(process.execPath, join(opt, 'node/bin/node'));
chmodSync(join(opt, 'node/bin/node'), 0o755);

mkdirSync(join(stage, 'usr/bin'), { recursive: true });
copyFileSync(join(repo, 'packaging/custos.sh'), join(stage, 'usr/bin/custos'));
chmodSync(join(stage, 'usr/bin/custos'), 0o755);

mkdirSync(join(stage, 'lib/systemd/system'), { recursive: true });
for (const unit of ['custos-agent.service', 'custos-manager.service']) copyFileSync(join(repo, 'systemd', unit), join(stage, 'lib/systemd/system', unit));

mkdirSync(join(stage, 'etc/custos'), { recursive: true });
run(join(opt, 'node/bin/node'), [join(opt, 'bin/custos.js'), 'init', join(stage, 'etc/custos/custos.yml')]);
mkdirSync(join(stage, 'etc/logrotate.d'), { recursive: true });
copyFileSync(join(repo, 'packaging/custos.logrotate'), join(stage, 'etc/logrotate.d/custos'));

// The man page and the completion, from the staged program's own help (so they describe what is shipped).
const tree = helpTree(join(opt, 'bin/custos.js'));
const date = new Date(Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000) * 1000).toISOString().slice(0, 10);
mkdirSync(join(stage, 'usr/share/man/man1'), { recursive: true });
writeFileSync(join(stage, 'usr/share/man/man1/custos.1.gz'), gzipSync(manPage(tree, pkg.version, date), { level: 9 }));
mkdirSync(join(stage, 'usr/share/bash-completion/completions'), { recursive: true });
writeFileSync(join(stage, 'usr/share/bash-completion/completions/custos'), bashCompletion(tree));
mkdirSync(join(stage, 'usr/share/doc/custos'), { recursive: true });
copyFileSync(join(repo, 'README.md'), join(stage, 'usr/share/doc/custos/README.md'));

// Control files.
const nativeModules = run('find', [opt, '-name', '*.node', '-type', 'f'])
  .split('\n')
  .filter((p) => p !== '');
const installedKiB = Math.ceil(Number(run('du', ['-sk', '--apparent-size', stage]).split(/\s/)[0]));
const debian = join(stage, 'DEBIAN');
mkdirSync(debian);
writeFileSync(
  join(debian, 'control'),
  [
    'Package: custos',
    `Version: ${pkg.version}`,
    'Architecture: amd64',
    'Maintainer: Custos developers <custos@localhost>',
    `Depends: ${[...dependsOf([join(opt, 'node/bin/node'), ...nativeModules]), 'passwd'].join(', ')}`,
    'Recommends: openssl, logrotate',
    'Section: admin',
    'Priority: optional',
    `Installed-Size: ${installedKiB}`,
    `Description: ${pkg.description}`,
    ' File integrity monitoring in the lineage of OSSEC syscheck: standalone checks (like AIDE) and a fleet mode',
    ' where agents report over mutual TLS to a manager that keeps the baselines off-host. Ships its own Node.js',
    ' runtime under /opt/custos.',
    '',
  ].join('\n'),
);
writeFileSync(join(debian, 'conffiles'), '/etc/custos/custos.yml\n/etc/logrotate.d/custos\n');
for (const script of ['postinst', 'prerm', 'postrm']) {
  copyFileSync(join(repo, 'packaging/debian', script), join(debian, script));
  chmodSync(join(debian, script), 0o755);
}

const deb = join(outDir, `custos_${pkg.version}_amd64.deb`);
run('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', stage, deb], { stdio: ['ignore', 'ignore', 'inherit'] });
process.stdout.write(`${deb} (${(statSync(deb).size / 1048576).toFixed(1)} MiB, ${(installedKiB / 1024).toFixed(1)} MiB installed)\n`);
