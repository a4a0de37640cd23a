import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../core/custos-error.js';

/** The apt configuration file the hook lives in. */
export const APT_HOOK_FILE = '99custos-known-hashes';

/** What the hook runs after every dpkg run. */
export interface AptHookOptions {
  /** The command that starts custos, as argv (e.g. `['/usr/bin/node', '/opt/custos/bin/custos.js']`). */
  readonly custos: readonly string[];
  readonly hashdb: string;
  /** Also import (and verify) the .debs apt just downloaded, against its signed indexes. */
  readonly verifyDebs?: { readonly keyring: string; readonly aptLists: string; readonly archives: string };
}

/**
 * The `DPkg::Post-Invoke` snippet: after every dpkg run apt starts, import the dpkg database's changed packages
 * (and optionally the verified .debs), so a patch run's new hashes are known before the next scan, not hours
 * later. Failures never break apt (`|| true`), and the hook does nothing once custos is uninstalled.
 */
export function aptHookText(options: AptHookOptions): string {
  const custos = options.custos.map(shellQuote).join(' ');
  const commands = [`${custos} hashdb import dpkg --changed-only --quiet --hashdb ${shellQuote(options.hashdb)}`];
  if (options.verifyDebs !== undefined) {
    const v = options.verifyDebs;
    commands.push(
      `${custos} hashdb import deb ${shellQuote(v.archives)} --apt-lists ${shellQuote(v.aptLists)} --keyring ${shellQuote(v.keyring)} --quiet --hashdb ${shellQuote(options.hashdb)}`,
    );
  }
  const guard = shellQuote(options.custos[options.custos.length - 1] ?? '');
  const script = `if [ -e ${guard} ]; then ${commands.map((c) => `${c} || true`).join('; ')}; fi`;
  return [
    '// Written by `custos hashdb apt-hook install`; remove with `custos hashdb apt-hook remove`.',
    '// After every dpkg run, import the hashes of what was just installed into the known-hash database.',
    `DPkg::Post-Invoke { "${script}"; };`,
    '',
  ].join('\n');
}

/** Writes the hook into an apt configuration directory; returns the file written. */
export function installAptHook(confDir: string, options: AptHookOptions): string {
  const file = join(confDir, APT_HOOK_FILE);
  writeFileSync(file, aptHookText(options), { mode: 0o644 });
  return file;
}

/** Removes the hook; returns the file removed. */
export function removeAptHook(confDir: string): string {
  const file = join(confDir, APT_HOOK_FILE);
  rmSync(file, { force: true });
  return file;
}

// Single quotes for the shell, inside apt's double-quoted string: paths holding either quote, a backslash or a
// newline are refused rather than escaped twice over.
function shellQuote(value: string): string {
  if (/["'\n\\]/.test(value)) throw new CustosError('USAGE', `cannot put ${JSON.stringify(value)} in an apt hook: it contains a quote, backslash or newline`);
  return `'${value}'`;
}
