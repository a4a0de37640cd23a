import type { AgentRef } from '../core/build-alert.js';
import { indexDiversions, type Diversions } from '../core/diversions.js';
import type { InstalledVersions } from '../core/known-hash-policy.js';
import type { DerivedEntry, ExpectedAbsence, PackageUpdate } from '../core/package-state.js';
import { dpkgSource } from '../hashdb/import/import-dpkg.js';
import type { KnownHashStore } from '../hashdb/known-hash-store.js';
import { goneCausesGiven } from '../host/dpkg-side-effects.js';
import type { PackageReport, PackageReportResponse } from '../protocol/package-wire.js';

const DIVERSIONS = 'diversions';
const USR_MERGED = 'usr_merged';
const b = (s: string): Buffer => Buffer.from(s, 'base64');

/**
 * An agent host's own package database, as the manager keeps it: host-scoped `dpkg-local` rows under the agent's
 * name (a claim of that host, for that host only), with its installed-package state. The same tables standalone
 * mode fills from the host's own dpkg database.
 */
export function agentPackageSource(agent: AgentRef): ReturnType<typeof dpkgSource> {
  return dpkgSource('/', agent.name);
}

/**
 * Applies one chunk of an agent's package report: its installed, upgraded and removed packages, and with the last
 * chunk the side effects of maintainer scripts it verified and its diversions. Answers which of the .debs it
 * offered the manager wants to verify itself: only when it verifies packages (`ask`), has not seen them, and has
 * not just asked another agent for the same one (`ask` says).
 */
export async function applyPackageReport(
  report: PackageReport,
  agent: AgentRef,
  knownHashes: KnownHashStore,
  ask: ((sha256: string, claimed: string) => boolean) | undefined,
  now: Date,
): Promise<PackageReportResponse> {
  const source = agentPackageSource(agent);
  const updated: PackageUpdate[] = report.updated.map((u) => {
    // With the mode and owner the agent observed at its import (a claim of that host, like its MD5s).
    const rows = u.rows.map((r) => ({
      digest: b(r.d),
      path: b(r.p),
      package: u.pkg,
      ...(r.m === undefined
        ? {}
        : { declared: { mode: r.m, ...(r.u === undefined ? {} : { uid: r.u }), ...(r.g === undefined ? {} : { gid: r.g }), observed: true } }),
    }));
    return {
      installed: { key: u.key, package: u.pkg, stamp: u.stamp },
      rows,
      owns: u.owns.map(b),
      counts: { md5sums: rows.length, conffiles: 0, symlinks: 0, malformed: 0 },
    };
  });
  await knownHashes.applyPackageState(source, {
    updated,
    removed: report.removed,
    databaseStamp: report.final === undefined ? `${report.databaseStamp} (partial)` : report.databaseStamp,
    at: now,
  });
  if (report.final !== undefined) {
    const f = report.final;
    const entries: DerivedEntry[] = f.entries.map((e) => ({
      row: { digest: b(e.d), path: b(e.p), ...(e.pkg === undefined ? {} : { package: e.pkg }) },
      because: e.because,
    }));
    const absent: ExpectedAbsence[] = f.absent.map((a) => ({ path: b(a.p), ...(a.pkg === undefined ? {} : { package: a.pkg }), reason: a.reason }));
    const gone = await goneCausesGiven(await knownHashes.derivedCauses(source), (paths) => knownHashes.ownersOf(source, paths), new Set(f.groups), f.merged);
    await knownHashes.replaceDerived(source, entries, absent, gone);
    await knownHashes.setSourceValue(source, DIVERSIONS, JSON.stringify(f.diversions));
    await knownHashes.setSourceValue(source, USR_MERGED, String(f.merged));
  }
  const wantDebs: string[] = [];
  if (ask !== undefined) {
    for (const u of report.updated) {
      if (
        u.deb !== undefined &&
        !wantDebs.includes(u.deb) &&
        (await knownHashes.debVerdict(u.deb)) === undefined &&
        ask(u.deb, `${u.pkg.name} ${u.pkg.version} ${u.pkg.arch}`)
      ) {
        wantDebs.push(u.deb);
      }
    }
  }
  return { applied: report.updated.length + report.removed.length, wantDebs };
}

/** What the manager holds of an agent's packages: key → stamp, and the database stamp of its last full report. */
export async function packageStateOf(agent: AgentRef, knownHashes: KnownHashStore): Promise<{ databaseStamp?: string; packages: Record<string, string> }> {
  const source = agentPackageSource(agent);
  const installed = await knownHashes.installedPackages(source);
  const stamp = await knownHashes.databaseStamp(source);
  return { ...(stamp === undefined ? {} : { databaseStamp: stamp }), packages: Object.fromEntries([...installed].map(([k, p]) => [k, p.stamp])) };
}

/** What an agent's host has installed and diverted, as it last reported, for judging its changes. */
export async function agentPackageContext(
  agent: AgentRef,
  knownHashes: KnownHashStore,
): Promise<{ installedVersions?: InstalledVersions; diversions?: Diversions; usrMerged?: boolean }> {
  const source = agentPackageSource(agent);
  const installedVersions = await knownHashes.installedVersions(source);
  const saved = await knownHashes.sourceValue(source, DIVERSIONS);
  const list = saved === undefined ? [] : (JSON.parse(saved) as { from: string; to: string; by?: string }[]);
  // The usrmerge alias applies unless the agent said its root is not merged (an agent that never reported: merged).
  const notMerged = (await knownHashes.sourceValue(source, USR_MERGED)) === 'false';
  return {
    ...(notMerged ? { usrMerged: false } : {}),
    ...(installedVersions === undefined ? {} : { installedVersions }),
    ...(list.length === 0
      ? {}
      : { diversions: indexDiversions(list.map((d) => ({ from: b(d.from), to: b(d.to), ...(d.by === undefined ? {} : { by: d.by }) }))) }),
  };
}
