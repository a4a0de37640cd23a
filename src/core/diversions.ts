import type { EvidenceSet, HashEvidence } from './known-hash-policy.js';

/** One `dpkg-divert`: other packages' file at `from` is installed at `to`; `by` keeps `from` (none: a local one). */
export interface Diversion {
  readonly from: Buffer;
  readonly to: Buffer;
  /** The diverting package; undefined for a local diversion made by the administrator (`:` in dpkg's file). */
  readonly by?: string;
}

/** A host's diversions, looked up by either end (keys: latin1 of the canonical path). */
export interface Diversions {
  readonly byFrom: ReadonlyMap<string, Diversion>;
  readonly byTo: ReadonlyMap<string, Diversion>;
}

/** Indexes diversions by both ends. */
export function indexDiversions(list: readonly Diversion[]): Diversions {
  return {
    byFrom: new Map(list.map((d) => [d.from.toString('latin1'), d])),
    byTo: new Map(list.map((d) => [d.to.toString('latin1'), d])),
  };
}

/** The other path whose packaged content counts at `path` (a diversion's `from`, for a file at its `to`). */
export function divertedSource(path: Buffer, diversions: Diversions): Buffer | undefined {
  return diversions.byTo.get(path.toString('latin1'))?.from;
}

/**
 * Applies dpkg's diversions to the evidence for a file, as dpkg applied them when it installed: at a diversion's
 * `to`, what other packages ship at its `from` counts (`atSource`, the evidence at `from`); at its `from`, only
 * the diverting package's own file counts (nothing packaged, for a local diversion). Evidence from sources with
 * no package (manifests, hash sets) is left as it is.
 */
export function applyDiversions(path: Buffer, evidence: EvidenceSet, diversions: Diversions, atSource?: EvidenceSet): EvidenceSet {
  const key = path.toString('latin1');
  const asFrom = diversions.byFrom.get(key);
  const asTo = diversions.byTo.get(key);
  if (asFrom === undefined && asTo === undefined) return evidence;
  let atPath: readonly HashEvidence[] = evidence.atPath;
  if (asFrom !== undefined) atPath = atPath.filter((e) => e.package === undefined || e.package.name === asFrom.by);
  if (asTo !== undefined && atSource !== undefined) {
    const moved = atSource.atPath.filter((e) => e.package !== undefined && e.package.name !== asTo.by);
    atPath = [...atPath, ...moved];
  }
  return { ...evidence, atPath };
}
