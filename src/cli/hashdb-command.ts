import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { CustosError } from '../core/custos-error.js';
import { CHECK_ALL } from '../core/check-set.js';
import { diffFileStates } from '../core/file-change.js';
import type { FileHashes } from '../core/file-state.js';
import { judgeChange } from '../core/known-hash-policy.js';
import { displayPath, pathFromString } from '../core/path-bytes.js';
import { installAptHook, removeAptHook } from '../hashdb/apt-hook.js';
import { hostIdentity } from '../hashdb/host-identity.js';
import { readInstalledVersions } from '../host/dpkg-database.js';
import { isPostgresLocation, knownHashLocation, openKnownHashStore } from '../hashdb/open-known-hash-store.js';
import { EXIT, type CommandResult } from './exit-codes.js';
import { runHashdbImport, type ImportFlags } from './hashdb-import.js';
import { loadConfig } from './load-config.js';
import { openExistingKnownHashes } from './open-known-hashes.js';

interface DbFlags {
  readonly config?: string;
  readonly db?: string;
  readonly hashdb?: string;
  readonly json?: boolean;
}

/** `custos hashdb import|lookup|stats|apt-hook`: the known-hash database. */
export function hashdbCommand(result: CommandResult): Command {
  const hashdb = new Command('hashdb').description('the known-hash database: import package hashes, look hashes up');
  const withDb = (c: Command): Command =>
    c
      .option(
        '--hashdb <file|url>',
        'the known-hash database: a file, or postgres://… (default: known_hashes.database, else the PostgreSQL store, else hashdb.sqlite in the data directory)',
      )
      .option('--config <file>', 'custos.yml or ossec.conf')
      .option('--db <file>', 'SQLite baseline file (its directory is the data directory)');

  hashdb.addCommand(
    withDb(new Command('import'))
      .description('import known hashes: dpkg | deb FILE|DIR... | rpm | apk | manifest FILE | md5db FILE | nsrl FILE | hashes FILE')
      .argument('<source>', 'dpkg, deb, rpm, apk, manifest, md5db, nsrl or hashes')
      .argument('[inputs...]', 'files or directories, for deb, manifest, md5db, nsrl and hashes')
      .option('--root <dir>', 'read the package database of a system mounted at DIR (dpkg, rpm, apk)', '/')
      .option('--host <name>', "the host whose own package database this is (dpkg, rpm, apk); default: the root's machine id")
      .option('--apt-lists <dir>', 'deb: verify each package against the signed indexes in DIR (apt lists or a mirror)')
      .option('--keyring <file>', 'deb: the OpenPGP keyring the indexes must be signed with')
      .option('--base <dir>', 'manifest: directory relative paths are below', '/')
      .option('--bad', 'manifest, hashes: the hashes are known-bad')
      .option('--digests <list>', 'nsrl: which digests to import (sha256,sha1,md5)', parseDigests, ['sha256'] as const)
      .option('--changed-only', 'dpkg, rpm: only packages changed since the last import (what the dpkg hook runs)')
      .option('--quiet', 'no summary unless something was refused')
      .option('--json', 'print the summary as JSON')
      .action(async (source: string, inputs: string[], flags: Omit<ImportFlags, 'host'> & { host?: string } & DbFlags) => {
        const store = await openKnownHashStore(hashdbPath(flags));
        try {
          result.exitCode = await runHashdbImport(store, source, inputs, { ...flags, host: flags.host ?? hostIdentity(flags.root) });
        } finally {
          await store.close();
        }
      }),
  );

  hashdb.addCommand(
    withDb(new Command('lookup'))
      .description('show the verdict for a hash (at a path) and all the evidence behind it')
      .argument('<hash>', 'an MD5, SHA-1 or SHA-256 in hex')
      .option('--path <path>', 'the path the content is at (without it, only hash-only knowledge applies)')
      .option('--host <name>', "the host asking (for host-scoped package databases); default: the root's machine id")
      .option('--root <dir>', 'judge against the packages installed in the system mounted at DIR', '/')
      .option('--json', 'print JSON')
      .action(async (hash: string, flags: DbFlags & { path?: string; host?: string; root: string }) => {
        const host = flags.host ?? hostIdentity(flags.root);
        const algorithm = ({ 32: 'md5', 40: 'sha1', 64: 'sha256' } as const)[hash.length as 32 | 40 | 64];
        if (algorithm === undefined || !/^[0-9a-f]+$/i.test(hash)) throw new CustosError('USAGE', `"${hash}" is not an MD5, SHA-1 or SHA-256 in hex`);
        const hashes: FileHashes = { [algorithm]: hash.toLowerCase() };
        const path = pathFromString(flags.path ?? '');
        const { config } = loadConfig(flags);
        const store = await openExistingKnownHashes(hashdbPath(flags));
        try {
          const evidence = await store.lookup(path, hashes);
          const state = {
            path,
            type: 'file' as const,
            size: 0,
            mode: 0,
            uid: 0,
            gid: 0,
            mtimeNs: 0n,
            ctimeNs: 0n,
            inode: 0,
            dev: 0,
            nlink: 1,
            hashes,
            issues: [],
          };
          const change = diffFileStates(undefined, state, CHECK_ALL);
          if (change === undefined) return;
          // Content counts only for the version installed: say which one that is for every package named.
          const installedVersions = readInstalledVersions(flags.root);
          const { verdict, effect } = judgeChange(change, evidence, config.knownHashes.policy, host, installedVersions);
          const named = [...new Set([...evidence.atPath, ...evidence.elsewhere].flatMap((e) => (e.package === undefined ? [] : [e.package.name])))];
          const installed = Object.fromEntries(named.map((name) => [name, (installedVersions?.get(name) ?? []).map((v) => `${v.version} ${v.arch}`)]));
          const all = [...evidence.bad, ...evidence.atPath, ...evidence.elsewhere].map((e) => ({
            digest: e.algorithm,
            ...(e.path === undefined ? {} : { path: displayPath(e.path) }),
            ...(e.package === undefined ? {} : { package: `${e.package.name} ${e.package.version} ${e.package.arch}`.trim() }),
            source: e.source.kind,
            source_name: e.source.name,
            ...(e.source.host === undefined ? {} : { host: e.source.host }),
            ...(e.bad ? { bad: true } : {}),
            ...(e.label === undefined ? {} : { label: e.label }),
          }));
          if (flags.json === true)
            process.stdout.write(`${JSON.stringify({ verdict, effect, evidence: all, ...(installedVersions === undefined ? {} : { installed }) })}\n`);
          else {
            const where = flags.path === undefined ? '' : ` at ${flags.path}`;
            process.stdout.write(`${hash}${where}: ${verdict.verdict} (${effect})\n`);
            for (const e of all)
              process.stdout.write(
                `  ${e.bad === true ? 'BAD ' : ''}${e.digest} ${e.path ?? '(any path)'} ${e.package ?? ''} [${e.source}: ${e.source_name}${e.host === undefined ? '' : ` @${e.host}`}]${e.label === undefined ? '' : ` ${e.label}`}\n`,
              );
            if (installedVersions !== undefined)
              for (const [name, versions] of Object.entries(installed))
                process.stdout.write(`  installed: ${name} ${versions.length === 0 ? '(not installed)' : versions.join(', ')}\n`);
          }
          result.exitCode = EXIT.OK;
        } finally {
          await store.close();
        }
      }),
  );

  hashdb.addCommand(
    withDb(new Command('stats'))
      .description('count what the known-hash database holds, by source')
      .option('--json', 'print JSON')
      .action(async (flags: DbFlags) => {
        const store = await openExistingKnownHashes(hashdbPath(flags));
        try {
          const stats = await store.stats();
          if (flags.json === true) process.stdout.write(`${JSON.stringify(stats)}\n`);
          else {
            process.stdout.write(`${stats.knownRows} known rows, ${stats.badRows} known-bad rows, ${stats.paths} paths, ${stats.packages} packages\n`);
            if (stats.debs.verified + stats.debs.refused > 0)
              process.stdout.write(`agents' .debs: ${stats.debs.verified} verified against the signed indexes, ${stats.debs.refused} refused\n`);
            for (const s of stats.sources)
              process.stdout.write(
                `  ${s.kind.padEnd(13)} ${String(s.rows).padStart(10)}  ${s.name}${s.host === undefined ? '' : ` @${s.host}`}  (imported ${s.importedAt})\n`,
              );
          }
          result.exitCode = EXIT.OK;
        } finally {
          await store.close();
        }
      }),
  );

  const hook = new Command('apt-hook').description('import package hashes as soon as dpkg finishes (Debian)');
  hook.addCommand(
    withDb(new Command('install'))
      .description('write a dpkg post-invoke hook (every dpkg run, from apt or by hand), and with --keyring an apt hook for the downloaded .debs')
      .option('--apt-conf-dir <dir>', 'apt configuration directory', '/etc/apt/apt.conf.d')
      .option('--dpkg-conf-dir <dir>', 'dpkg configuration directory', '/etc/dpkg/dpkg.cfg.d')
      .option('--keyring <file>', 'also import the downloaded .debs, verified against the signed indexes with this keyring')
      .option('--apt-lists <dir>', 'with --keyring: the signed indexes', '/var/lib/apt/lists')
      .option('--archives <dir>', 'with --keyring: where apt keeps downloaded .debs', '/var/cache/apt/archives')
      .action(async (flags: DbFlags & { aptConfDir: string; dpkgConfDir: string; keyring?: string; aptLists: string; archives: string }) => {
        // Absolute paths throughout: dpkg and apt run the hooks from /, not from where this command ran.
        const custos = [process.execPath, realpathSync(process.argv[1] ?? '')];
        const location = hashdbPath(flags);
        // The hooks are world-readable files under /etc: a password must come from ~/.pgpass or PGPASSWORD instead.
        if (isPostgresLocation(location) && new URL(location).password !== '')
          throw new CustosError('USAGE', 'the apt hook would write the PostgreSQL password into /etc: name the database without it (use ~/.pgpass)');
        const files = installAptHook(flags, {
          custos,
          hashdb: realPathOrSelf(location),
          ...(flags.keyring === undefined
            ? {}
            : { verifyDebs: { keyring: realPathOrSelf(flags.keyring), aptLists: realPathOrSelf(flags.aptLists), archives: realPathOrSelf(flags.archives) } }),
        });
        for (const file of files) process.stdout.write(`wrote ${file}\n`);
        result.exitCode = EXIT.OK;
      }),
  );
  hook.addCommand(
    new Command('remove')
      .description('remove the hooks')
      .option('--apt-conf-dir <dir>', 'apt configuration directory', '/etc/apt/apt.conf.d')
      .option('--dpkg-conf-dir <dir>', 'dpkg configuration directory', '/etc/dpkg/dpkg.cfg.d')
      .action(async (flags: { aptConfDir: string; dpkgConfDir: string }) => {
        const { removed, absent } = removeAptHook(flags);
        for (const file of removed) process.stdout.write(`removed ${file}\n`);
        if (removed.length === 0) process.stdout.write(`nothing to remove: no hook at ${absent.join(' or ')}\n`);
        result.exitCode = EXIT.OK;
      }),
  );
  hashdb.addCommand(hook);
  return hashdb;
}

/** `--hashdb`, else where the configuration puts the known-hash database (on a PostgreSQL store: that database). */
function hashdbPath(flags: DbFlags): string {
  if (flags.hashdb !== undefined) return flags.hashdb;
  const { config } = loadConfig(flags);
  return knownHashLocation(config, config.knownHashes.databasePath);
}

/**
 * The path with symlinks resolved, or made absolute when it does not exist yet (a database the hook creates). A
 * PostgreSQL URL is kept as it is.
 */
function realPathOrSelf(path: string): string {
  if (isPostgresLocation(path)) return path;
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function parseDigests(text: string): readonly ('sha256' | 'sha1' | 'md5')[] {
  const list = text.split(',').map((d) => d.trim());
  if (list.length === 0 || !list.every((d): d is 'sha256' | 'sha1' | 'md5' => d === 'sha256' || d === 'sha1' || d === 'md5')) {
    throw new InvalidArgumentError('expected a comma-separated list of sha256, sha1, md5');
  }
  return list;
}
