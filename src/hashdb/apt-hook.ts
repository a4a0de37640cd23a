import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../core/custos-error.js';

/** The apt configuration file the hook that imports verified .debs lives in. */
export const APT_HOOK_FILE = '99custos-known-hashes';
/** The dpkg configuration file the hook that imports the dpkg database lives in. */
export const DPKG_HOOK_FILE = 'custos-known-hashes';

/** What the hooks run. */
export interface AptHookOptions {
  /** The command that starts custos, as argv (e.g. `['/usr/bin/node', '/opt/custos/bin/custos.js']`). */
  readonly custos: readonly string[];
  readonly hashdb: string;
  /** Also import (and verify) the .debs apt just downloaded, against its signed indexes. */
  readonly verifyDebs?: { readonly keyring: string; readonly aptLists: string; readonly archives: string };
}

/** Where the hooks go. */
export interface HookDirs {
  /** apt's configuration parts (`/etc/apt/apt.conf.d`). */
  readonly aptConfDir: string;
  /** dpkg's configuration parts (`/etc/dpkg/dpkg.cfg.d`). */
  readonly dpkgConfDir: string;
}

// Said on stderr, which apt and dpkg show, when an import fails; the next `check` also alerts (rule 568).
const FAILED = 'custos: the known-hash import after dpkg failed; package changes will alert until custos hashdb import dpkg runs';

/**
 * The dpkg `post-invoke` hook: after every dpkg run (from apt, or `dpkg -i` by hand), import what that run
 * installed, upgraded or removed. A failure is said on stderr and never fails dpkg; the hook does nothing once
 * custos is uninstalled.
 */
export function dpkgHookText(options: AptHookOptions): string {
  const custos = options.custos.map(shellQuote).join(' ');
  const command = `${custos} hashdb import dpkg --changed-only --quiet --hashdb ${shellQuote(options.hashdb)} || echo ${shellQuote(FAILED)} >&2`;
  return [
    '# Written by `custos hashdb apt-hook install`; remove with `custos hashdb apt-hook remove`.',
    '# After every dpkg run, import what it installed, upgraded or removed into the known-hash database.',
    // Only dpkg runs on this system: one for another root (DPKG_ROOT: a chroot, an image) is not this host's.
    `post-invoke="if [ -e ${shellQuote(options.custos[options.custos.length - 1] ?? '')} ] && [ x\${DPKG_ROOT:-/} = x/ ]; then ${command}; fi"`,
    '',
  ].join('\n');
}

/**
 * The apt `DPkg::Post-Invoke` snippet, written only when .debs are to be verified: after every apt run, import the
 * .debs apt downloaded, verified against its signed indexes.
 */
export function aptHookText(options: AptHookOptions): string | undefined {
  const v = options.verifyDebs;
  if (v === undefined) return undefined;
  const custos = options.custos.map(shellQuote).join(' ');
  const command = `${custos} hashdb import deb ${shellQuote(v.archives)} --apt-lists ${shellQuote(v.aptLists)} --keyring ${shellQuote(v.keyring)} --quiet --hashdb ${shellQuote(options.hashdb)} || true`;
  const script = `if [ -e ${shellQuote(options.custos[options.custos.length - 1] ?? '')} ]; then ${command}; fi`;
  return [
    '// Written by `custos hashdb apt-hook install`; remove with `custos hashdb apt-hook remove`.',
    '// After every apt run, import the .debs it downloaded, verified against the signed indexes.',
    `DPkg::Post-Invoke { "${script}"; };`,
    '',
  ].join('\n');
}

/** Writes the hooks; returns the files written (an apt hook from an earlier install without .debs is removed). */
export function installAptHook(dirs: HookDirs, options: AptHookOptions): string[] {
  const dpkgFile = join(dirs.dpkgConfDir, DPKG_HOOK_FILE);
  writeFileSync(dpkgFile, dpkgHookText(options), { mode: 0o644 });
  const aptFile = join(dirs.aptConfDir, APT_HOOK_FILE);
  const apt = aptHookText(options);
  if (apt === undefined) {
    rmSync(aptFile, { force: true });
    return [dpkgFile];
  }
  writeFileSync(aptFile, apt, { mode: 0o644 });
  return [dpkgFile, aptFile];
}

/** Removes the hooks; returns the files removed. */
export function removeAptHook(dirs: HookDirs): { readonly removed: string[]; readonly absent: string[] } {
  const files = [join(dirs.dpkgConfDir, DPKG_HOOK_FILE), join(dirs.aptConfDir, APT_HOOK_FILE)];
  const removed = files.filter((file) => existsSync(file));
  for (const file of removed) rmSync(file, { force: true });
  return { removed, absent: files.filter((file) => !removed.includes(file)) };
}

// Single quotes for the shell, inside a double-quoted string of apt's or dpkg's configuration: values holding
// either quote, a backslash, a dollar sign, a backquote or a newline are refused rather than escaped twice over.
function shellQuote(value: string): string {
  if (/["'\n\\$`]/.test(value))
    throw new CustosError('USAGE', `cannot put ${JSON.stringify(value)} in a package manager hook: it contains a quote, backslash, $, \` or newline`);
  return `'${value}'`;
}
