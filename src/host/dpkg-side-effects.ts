import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { linkDigest } from '../core/content-digests.js';
import type { PackageRef } from '../core/known-hash-policy.js';
import { usrCanonical } from '../core/usrmerge.js';
import type { DerivedEntry, ExpectedAbsence } from '../core/package-state.js';
import { expectedChoice, readAlternatives } from './dpkg-alternatives.js';
import { parseLdSoCache } from './ld-so-cache.js';

/** Which installed package owns each of these canonical paths (keys: latin1 of the path). */
export type OwnersOf = (paths: readonly Buffer[]) => Promise<ReadonlyMap<string, PackageRef>>;

/** The side effects of maintainer scripts and triggers that check out, and what did not. */
export interface SideEffects {
  readonly entries: DerivedEntry[];
  readonly absent: ExpectedAbsence[];
  /** What could not be verified (it stays unexplained, so it alerts), one line each. */
  readonly unexplained: string[];
  /** The libraries ld.so.cache lists that no installed package owns (local builds, vendor SDKs), sorted. */
  localLibraries: string[];
}

const RC_DIRS = ['rc0.d', 'rc1.d', 'rc2.d', 'rc3.d', 'rc4.d', 'rc5.d', 'rc6.d', 'rcS.d'];
const UNIT_SUFFIX = /\.(service|socket|timer|target|path|mount|automount|swap|slice|scope)$/;

/**
 * Verifies what maintainer scripts and triggers leave behind in places FIM watches, so that it is known-good only
 * when it checks out against what is installed, never because it appeared during a dpkg run:
 * - update-alternatives links (`/etc/alternatives/NAME` and the generic links) that match dpkg's alternatives
 *   database: the registered choice of highest priority in auto mode, any registered one in manual mode; a slave
 *   the chosen alternative does not provide must be absent;
 * - SysV init links (`/etc/rcN.d/[SK]NNname → ../init.d/name`) to an init script an installed package owns;
 * - systemd enablement links and aliases in `/etc/systemd/system` to a unit file an installed package owns, of
 *   the same unit type;
 * - `/etc/ld.so.cache`, when every library it lists is a file an installed package owns (or a soname link that
 *   ldconfig made to one in the same directory), or one of the host's own libraries the operator trusted (those
 *   listed when `hashdb import dpkg` last ran in full: a new one makes the cache unexplained until then).
 */
export async function verifySideEffects(root: string, owners: OwnersOf, trustedLocalLibraries: ReadonlySet<string> | 'all'): Promise<SideEffects> {
  const merged = lstatLink(root, '/bin') !== undefined;
  const canonical = (p: string): Buffer => (merged ? usrCanonical(Buffer.from(p, 'latin1')) : Buffer.from(p, 'latin1'));
  const out: SideEffects = { entries: [], absent: [], unexplained: [], localLibraries: [] };
  await alternatives(root, owners, canonical, out);
  await initLinks(root, owners, canonical, out);
  await systemdLinks(root, owners, canonical, out);
  await ldSoCache(root, owners, canonical, merged, trustedLocalLibraries, out);
  return out;
}

/**
 * Why each maintainer-script cause no longer holds, where it does not (then a link it made that is gone now left
 * with it, and its deletion is explained): the init script or unit it pointed at is no longer owned by an
 * installed package, or its alternatives group is no longer registered. Causes still in force are left out.
 */
export async function goneCauses(root: string, owners: OwnersOf, causes: readonly string[]): Promise<Map<string, string>> {
  return goneCausesGiven(causes, owners, new Set(readAlternatives(root).groups.map((g) => g.name)), lstatLink(root, '/bin') !== undefined);
}

/**
 * {@link goneCauses} from what a host reported: its alternatives groups, and whether it is merged-/usr (the manager
 * judges an agent's host this way, with the ownership the agent reported).
 */
export async function goneCausesGiven(causes: readonly string[], owners: OwnersOf, groups: ReadonlySet<string>, merged: boolean): Promise<Map<string, string>> {
  const canonical = (p: string): Buffer => (merged ? usrCanonical(Buffer.from(p, 'latin1')) : Buffer.from(p, 'latin1'));
  const split = causes.map((because) => ({ because, kind: because.slice(0, because.indexOf(':')), what: because.slice(because.indexOf(':') + 1) }));
  const owned = await owners(split.filter((c) => c.kind === 'init' || c.kind === 'unit').map((c) => canonical(c.what)));
  const reasons = new Map<string, string>();
  for (const { because, kind, what } of split) {
    if ((kind === 'init' || kind === 'unit') && !owned.has(canonical(what).toString('latin1')))
      reasons.set(because, `link to ${what}, which went with its package`);
    else if (kind === 'alt' && !groups.has(what)) reasons.set(because, `alternatives group ${what} was removed`);
  }
  return reasons;
}

async function alternatives(root: string, owners: OwnersOf, canonical: (p: string) => Buffer, out: SideEffects): Promise<void> {
  const { groups, malformed } = readAlternatives(root);
  for (const name of malformed) out.unexplained.push(`alternatives group ${name}: not in dpkg's format`);
  const chosen = groups.map((g) => ({ group: g, selected: lstatLink(root, `/etc/alternatives/${g.name}`)?.toString('latin1') }));
  const own = await owners(chosen.flatMap((c) => (c.selected === undefined ? [] : [canonical(c.selected)])));
  for (const { group, selected } of chosen) {
    const choice = expectedChoice(group, selected, (path) => exists(root, path));
    if (choice === undefined) {
      if (selected !== undefined)
        out.unexplained.push(`alternatives: /etc/alternatives/${group.name} -> ${selected} is not what the ${group.mode} group ${group.name} selects`);
      continue;
    }
    const pkg = own.get(canonical(choice.path).toString('latin1'));
    const because = `alt:${group.name}`;
    const link = (path: string, target: string): void => {
      out.entries.push({
        row: { digest: Buffer.from(linkDigest(Buffer.from(target, 'latin1')), 'hex'), path: canonical(path), ...(pkg === undefined ? {} : { package: pkg }) },
        because,
      });
    };
    link(`/etc/alternatives/${group.name}`, choice.path);
    link(group.link, `/etc/alternatives/${group.name}`);
    group.slaves.forEach((slave, i) => {
      const value = choice.slaveValues[i] ?? '';
      if (value !== '') {
        link(`/etc/alternatives/${slave.name}`, value);
        link(slave.link, `/etc/alternatives/${slave.name}`);
        return;
      }
      const reason = `alternatives: ${choice.path} provides no ${slave.name}`;
      for (const p of [`/etc/alternatives/${slave.name}`, slave.link])
        out.absent.push({ path: canonical(p), ...(pkg === undefined ? {} : { package: pkg }), reason });
    });
  }
}

async function initLinks(root: string, owners: OwnersOf, canonical: (p: string) => Buffer, out: SideEffects): Promise<void> {
  const links: { path: string; target: Buffer; script: string }[] = [];
  for (const dir of RC_DIRS) {
    for (const name of listDir(root, `/etc/${dir}`)) {
      const path = `/etc/${dir}/${name}`;
      const target = lstatLink(root, path);
      const m = /^[SK]\d\d(.+)$/.exec(name);
      if (target === undefined || m === null) continue;
      const t = target.toString('latin1');
      const script = `/etc/init.d/${m[1]}`;
      if (t !== `../init.d/${m[1]}` && t !== script) continue;
      links.push({ path, target, script });
    }
  }
  const own = await owners(links.map((l) => canonical(l.script)));
  for (const l of links) {
    const pkg = own.get(canonical(l.script).toString('latin1'));
    if (pkg === undefined) {
      out.unexplained.push(`init link ${l.path}: ${l.script} is not owned by an installed package`);
      continue;
    }
    out.entries.push({ row: { digest: Buffer.from(linkDigest(l.target), 'hex'), path: canonical(l.path), package: pkg }, because: `init:${l.script}` });
  }
}

async function systemdLinks(root: string, owners: OwnersOf, canonical: (p: string) => Buffer, out: SideEffects): Promise<void> {
  const base = '/etc/systemd/system';
  const links: { path: string; target: Buffer; unit: string }[] = [];
  const consider = (path: string, name: string): void => {
    const target = lstatLink(root, path);
    if (target === undefined) return;
    const unit = target.toString('latin1');
    const suffix = UNIT_SUFFIX.exec(name)?.[1];
    // Only absolute links to a unit of the same type; `/dev/null` (a masked unit) is never explained here.
    if (suffix === undefined || !unit.startsWith('/') || UNIT_SUFFIX.exec(unit)?.[1] !== suffix) return;
    links.push({ path, target, unit });
  };
  for (const name of listDir(root, base)) {
    const path = `${base}/${name}`;
    if (/\.(wants|requires)$/.test(name)) for (const inner of listDir(root, path)) consider(`${path}/${inner}`, inner);
    else consider(path, name);
  }
  const own = await owners(links.map((l) => canonical(l.unit)));
  for (const l of links) {
    const pkg = own.get(canonical(l.unit).toString('latin1'));
    if (pkg === undefined) continue; // an operator's own unit: judged like any other link
    out.entries.push({ row: { digest: Buffer.from(linkDigest(l.target), 'hex'), path: canonical(l.path), package: pkg }, because: `unit:${l.unit}` });
  }
}

async function ldSoCache(
  root: string,
  owners: OwnersOf,
  canonical: (p: string) => Buffer,
  merged: boolean,
  trusted: ReadonlySet<string> | 'all',
  out: SideEffects,
): Promise<void> {
  let data: Buffer;
  try {
    data = readFileSync(onDisk(root, '/etc/ld.so.cache'));
  } catch {
    return;
  }
  let entries;
  try {
    entries = parseLdSoCache(data);
  } catch (error) {
    out.unexplained.push(`/etc/ld.so.cache: ${(error as Error).message}`);
    return;
  }
  // Each listed path, or (a soname link ldconfig made) the file it points at in the same directory.
  const candidates = entries.map((e) => {
    const path = e.path.toString('latin1');
    const target = lstatLink(root, path);
    const resolved = target === undefined || target.includes(0x2f) ? undefined : posix.join(posix.dirname(path), target.toString('latin1'));
    return { path, resolved };
  });
  const own = await owners(candidates.flatMap((c) => [canonical(c.path), ...(c.resolved === undefined ? [] : [canonical(c.resolved)])]));
  const local = candidates.filter(
    (c) => !own.has(canonical(c.path).toString('latin1')) && (c.resolved === undefined || !own.has(canonical(c.resolved).toString('latin1'))),
  );
  out.localLibraries = [...new Set(local.map((c) => c.path))].sort();
  const stray = trusted === 'all' ? [] : local.filter((c) => !trusted.has(c.path));
  if (stray.length > 0) {
    const list = stray
      .slice(0, 5)
      .map((c) => c.path)
      .join(', ');
    out.unexplained.push(
      `/etc/ld.so.cache lists ${stray.length} librar${stray.length === 1 ? 'y' : 'ies'} that no installed package owns and that were not there at the last full import (${list}${stray.length > 5 ? ', …' : ''})`,
    );
    return;
  }
  const ldconfig = (await owners([canonical(merged ? '/usr/sbin/ldconfig' : '/sbin/ldconfig')])).values().next().value;
  const digest = createHash('sha256').update(data).digest();
  out.entries.push({ row: { digest, path: Buffer.from('/etc/ld.so.cache'), ...(ldconfig === undefined ? {} : { package: ldconfig }) }, because: 'ldcache' });
}

function onDisk(root: string, path: string): string {
  return root === '/' ? path : posix.join(root, path);
}

/** The target of a symlink, or undefined when the path is not one. */
function lstatLink(root: string, path: string): Buffer | undefined {
  try {
    if (!lstatSync(onDisk(root, path)).isSymbolicLink()) return undefined;
    return readlinkSync(onDisk(root, path), { encoding: 'buffer' });
  } catch {
    return undefined;
  }
}

function exists(root: string, path: string): boolean {
  try {
    statSync(onDisk(root, path));
    return true;
  } catch {
    return false;
  }
}

function listDir(root: string, path: string): string[] {
  try {
    return readdirSync(onDisk(root, path)).sort();
  } catch {
    return [];
  }
}
