import type { Attribute } from './compare-file-state.js';
import { declaredModeProblems, octalMode, ownerName, type DeclaredMode } from './declared-mode.js';
import type { FileChange } from './file-change.js';
import type { HashAlgorithm } from './file-state.js';
import { compareDebianVersions } from './debian-version.js';
import type { KnownHashVerdict } from './known-hash-verdict.js';
import { displayPath, isWithin, pathFromString } from './path-bytes.js';

/** Where known hashes come from. */
export const HASH_SOURCE_KINDS = ['deb-verified', 'dpkg-local', 'rpm', 'apk', 'nsrl', 'manifest', 'manual', 'ossec-md5db'] as const;
export type HashSourceKind = (typeof HASH_SOURCE_KINDS)[number];

/**
 * How much each source is believed, highest first: a .deb verified against a signed repository proves what the
 * distribution shipped; a host's own package database is a claim an attacker on that host can rewrite; hash-only
 * sets say "known somewhere", never "right here".
 */
export const SOURCE_TRUST: Readonly<Record<HashSourceKind, number>> = {
  'deb-verified': 100,
  rpm: 90,
  apk: 90,
  manual: 80,
  manifest: 70,
  'dpkg-local': 40,
  'ossec-md5db': 20,
  nsrl: 10,
};

/** A package a known file belongs to. */
export interface PackageRef {
  readonly name: string;
  readonly version: string;
  readonly arch: string;
}

/** One known-hash record that matched one of a file's digests. */
export interface HashEvidence {
  readonly algorithm: HashAlgorithm;
  /** The path the source knows this content at; absent for hash-only sources. */
  readonly path?: Buffer;
  readonly package?: PackageRef;
  readonly source: { readonly kind: HashSourceKind; readonly name: string; readonly host?: string };
  readonly bad: boolean;
  readonly label?: string;
  /** The mode and owner the source gives this path in this package, when it says (see DeclaredMode). */
  readonly declared?: DeclaredMode;
}

/** Why a deleted path was expected to go: the package it left with, or the maintainer script that removed it. */
export interface RemovalEvidence {
  readonly package?: PackageRef;
  readonly source: { readonly kind: HashSourceKind; readonly name: string; readonly host?: string };
  /** `removed with its package`, `no longer shipped (package upgraded to 2.0)`, `alternatives: ...` */
  readonly reason: string;
}

/**
 * What a lookup found for one changed file: at its own path (or usrmerge alias), elsewhere, and on bad lists;
 * for a deletion, the removals that explain it.
 */
export interface EvidenceSet {
  readonly atPath: readonly HashEvidence[];
  readonly elsewhere: readonly HashEvidence[];
  readonly bad: readonly HashEvidence[];
  readonly removed?: readonly RemovalEvidence[];
}

/** An empty lookup result. */
export const NO_EVIDENCE: EvidenceSet = Object.freeze({ atPath: [], elsewhere: [], bad: [] });

/** Which sources may silence a change, below which paths. */
export interface SilenceRule {
  readonly sources: readonly HashSourceKind[];
  readonly paths: readonly string[];
}

/**
 * The known-hash policy. `match: path` (the default) needs the same path and digest; `match: hash` is OSSEC's
 * md5 allowlist behaviour (any path), for compatibility only.
 */
export interface KnownHashPolicy {
  readonly match: 'path' | 'hash';
  readonly silence: readonly SilenceRule[];
}

/** Package sources, operator lists and the host's own package database may silence anywhere; hash-only sets never. */
export const DEFAULT_KNOWN_HASH_POLICY: KnownHashPolicy = Object.freeze<KnownHashPolicy>({
  match: 'path',
  silence: [{ sources: ['deb-verified', 'rpm', 'apk', 'manual', 'manifest', 'dpkg-local'], paths: ['/'] }],
});

/**
 * What a known-hash verdict does to a change:
 * - `known-bad`: alert at the top level (rule 561), whatever else says
 * - `silence`: record with the evidence, no alert, baseline advances
 * - `known-elsewhere`: alert as known content in an unexpected place (rule 562)
 * - `package-mismatch`: packaged content whose mode or owner is not what the package ships: alert (rule 575)
 * - `default`: the normal rules decide (unknown content, or known content with changed ownership or permissions)
 */
export type VerdictEffect = 'known-bad' | 'silence' | 'known-elsewhere' | 'package-mismatch' | 'default';

/** A verdict and its effect. */
export interface Judgement {
  readonly verdict: KnownHashVerdict;
  readonly effect: VerdictEffect;
}

/**
 * The package versions installed on the host, by package name (several for a Multi-Arch: same package), from its
 * package database at check time. Without it, content of any imported version counts.
 */
export type InstalledVersions = ReadonlyMap<string, readonly { readonly version: string; readonly arch: string }[]>;

/** The judgement of content nothing is known about: shared, and frozen so that no caller can change it for the next. */
const UNKNOWN: Judgement = Object.freeze({ verdict: Object.freeze({ verdict: 'unknown' }), effect: 'default' });

// A package explains content, not who may run it: these still alert on a known-good file.
const METADATA: readonly Attribute[] = ['permission', 'uid', 'gid', 'user_name', 'group_name', 'type'];
const DIGEST_PREFERENCE: readonly HashAlgorithm[] = ['sha256', 'sha1', 'md5'];

/**
 * Judges a change against the evidence, before any rule runs. Deletions are never silenced by hashes, only by a
 * recorded package removal; a known-bad digest beats everything; evidence from another host's package database
 * is ignored. With the host's `installed` versions, a package's content counts only for the version installed:
 * content of another version of the same package at that path is `other-version` (a downgrade, a newer file, or
 * a package that is not installed), which alerts (rule 573).
 */
export function judgeChange(change: FileChange, evidence: EvidenceSet, policy: KnownHashPolicy, host: string, installed?: InstalledVersions): Judgement {
  // Most changes have no evidence at all (every entry of a first scan without a known-hash database): the verdict
  // the filters below reach on empty lists, without making them.
  if (change.kind !== 'deleted' && evidence.bad.length === 0 && evidence.atPath.length === 0 && evidence.elsewhere.length === 0) return UNKNOWN;
  const relevant = (e: { readonly source: { readonly host?: string } }): boolean => e.source.host === undefined || e.source.host === host;
  if (change.kind === 'deleted') return judgeDeletion(change.path, (evidence.removed ?? []).filter(relevant), policy);
  const bad = evidence.bad.filter(relevant);
  if (bad.length > 0) return { verdict: describe('known-bad', strongest(bad)), effect: 'known-bad' };
  const known = evidence.atPath.filter(relevant);
  const atPath = installed === undefined ? known : known.filter((e) => isInstalled(e, installed));
  const elsewhere = evidence.elsewhere.filter(relevant);
  // In OSSEC's `match: hash` mode content known anywhere silences, but still only a version that is installed.
  const candidates =
    policy.match === 'hash' ? [...atPath, ...(installed === undefined ? elsewhere : elsewhere.filter((e) => isInstalled(e, installed)))] : atPath;
  const silencing = candidates.filter((e) => maySilence(e, change.path, policy));
  if (silencing.length > 0) {
    // Known content is known-good only with the mode and owner its package ships: a setuid copy of a packaged
    // binary, or one chowned to another user, is the package's content put to another use.
    const mismatch = packageMismatch(change, atPath.length > 0 ? atPath : silencing);
    if (mismatch !== undefined) return { verdict: mismatch, effect: 'package-mismatch' };
    const metadataChanged = change.changedAttributes.some((a) => METADATA.includes(a));
    const best = strongest(silencing);
    return { verdict: describe('known-good', best, atPath.includes(best)), effect: metadataChanged ? 'default' : 'silence' };
  }
  if (atPath.length > 0) return { verdict: describe('known-good', strongest(atPath), true), effect: 'default' };
  if (known.length > 0 && installed !== undefined) return { verdict: otherVersion(strongest(known), installed), effect: 'default' };
  if (elsewhere.length > 0) return { verdict: describe('known-elsewhere', strongest(elsewhere)), effect: 'known-elsewhere' };
  return { verdict: { verdict: 'unknown' }, effect: 'default' };
}

// The sources whose packages are Debian packages, so dpkg's status database says which version is installed.
const DEBIAN_SOURCES: readonly HashSourceKind[] = ['deb-verified', 'manual', 'dpkg-local'];

/**
 * True when the evidence names no Debian package, or a version (and architecture) of it the host has installed.
 * Other package systems' rows (rpm, apk) are not judged by dpkg's database.
 */
function isInstalled(e: HashEvidence, installed: InstalledVersions): boolean {
  if (e.package === undefined || !DEBIAN_SOURCES.includes(e.source.kind)) return true;
  const { version, arch } = e.package;
  return (installed.get(e.package.name) ?? []).some((v) => v.version === version && (arch === '' || arch === 'all' || v.arch === 'all' || v.arch === arch));
}

/**
 * The `package-mismatch` verdict when the file's mode or owner is not what the most trusted source that declares
 * one gives its path (none declaring: only an undeclared setuid/setgid bit counts), else undefined.
 */
function packageMismatch(change: FileChange, known: readonly HashEvidence[]): KnownHashVerdict | undefined {
  if (change.kind === 'deleted') return undefined;
  const declaring = known.filter((e) => e.declared !== undefined);
  const source = declaring.length > 0 ? strongest(declaring) : undefined;
  const declared = source?.declared;
  const problems = declaredModeProblems(declared, change.after, change.kind === 'modified' ? change.before : undefined);
  if (problems.length === 0) return undefined;
  const out = describe('package-mismatch', source ?? strongest(known), true) as unknown as Record<string, string>;
  const a = change.after;
  if (declared !== undefined) {
    out.declared_mode = octalMode(declared.mode);
    out.declared_owner = ownerName(declared.owner, declared.uid);
    out.declared_group = ownerName(declared.group, declared.gid);
    if (declared.observed === true) out.declared_by = 'observed at import';
  }
  out.actual_mode = octalMode(a.mode);
  out.actual_owner = ownerName(a.uname, a.uid);
  out.actual_group = ownerName(a.gname, a.gid);
  out.mismatch = problems.join('; ');
  return out as unknown as KnownHashVerdict;
}

/** The verdict for content of a version of its package that is not the one installed. */
function otherVersion(e: HashEvidence, installed: InstalledVersions): KnownHashVerdict {
  const base = describe('other-version', e, true) as unknown as Record<string, string>;
  const pkg = e.package as PackageRef;
  const versions = installed.get(pkg.name) ?? [];
  const now = versions.find((v) => v.arch === pkg.arch) ?? versions[0];
  if (now === undefined) return { ...base, installed_version: '', relation: 'not-installed' } as unknown as KnownHashVerdict;
  const order = compareDebianVersions(pkg.version, now.version);
  return { ...base, installed_version: now.version, relation: order < 0 ? 'older' : order > 0 ? 'newer' : 'other-architecture' } as unknown as KnownHashVerdict;
}

/**
 * A deletion is explained only by the host's package database saying the path left with a package (removed, or
 * upgraded to a version without it) or a maintainer script's verified link went with its cause; never by hashes.
 */
function judgeDeletion(path: Buffer, removals: readonly RemovalEvidence[], policy: KnownHashPolicy): Judgement {
  const explained = removals.find((r) => maySilence(r, path, policy));
  if (explained === undefined) return { verdict: { verdict: 'unknown' }, effect: 'default' };
  const out: Record<string, string> = { verdict: 'known-good', source: explained.source.kind };
  if (explained.package !== undefined) {
    out.package = explained.package.name;
    out.version = explained.package.version;
    out.arch = explained.package.arch;
  }
  out.match = 'removal';
  out.reason = explained.reason;
  return { verdict: out as unknown as KnownHashVerdict, effect: 'silence' };
}

function maySilence(e: { readonly source: { readonly kind: HashSourceKind } }, path: Buffer, policy: KnownHashPolicy): boolean {
  return policy.silence.some((rule) => rule.sources.includes(e.source.kind) && rule.paths.some((p) => isWithin(path, pathFromString(p))));
}

/** The most trusted record, preferring the strongest digest among equals. */
function strongest(evidence: readonly HashEvidence[]): HashEvidence {
  return [...evidence].sort(
    (a, b) => SOURCE_TRUST[b.source.kind] - SOURCE_TRUST[a.source.kind] || DIGEST_PREFERENCE.indexOf(a.algorithm) - DIGEST_PREFERENCE.indexOf(b.algorithm),
  )[0] as HashEvidence;
}

function describe(verdict: KnownHashVerdict['verdict'], e: HashEvidence, samePath = false): KnownHashVerdict {
  const out: Record<string, string> = { verdict, source: e.source.kind };
  if (e.package !== undefined) {
    out.package = e.package.name;
    out.version = e.package.version;
    out.arch = e.package.arch;
  }
  out.match = samePath && e.path !== undefined ? `path+${e.algorithm}` : e.algorithm;
  if (verdict === 'known-elsewhere' && e.path !== undefined) out.known_path = displayPath(e.path);
  if (e.label !== undefined) out.label = e.label;
  return out as unknown as KnownHashVerdict;
}
