import { z } from 'zod';
import type { PackageRef } from '../core/known-hash-policy.js';

/**
 * The wire of an agent's package state (issues: the seed's promise in fleet mode): what the agent's host installed
 * and removed, as its dpkg database says, so that the manager explains the package changes the scans report with
 * the host's own claims (host-scoped, lower trust) and with the .debs it verifies itself against the signed
 * indexes it trusts (one upload serves the whole fleet).
 */

const b64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64')
  .max(8192);
/** An absolute path, base64; no NUL (the baseline's key maps '/' to NUL). */
const path = b64.refine((p) => {
  const bytes = Buffer.from(p, 'base64');
  return bytes[0] === 0x2f && !bytes.includes(0);
}, 'expected an absolute path');
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\p{Cc}]*$/u, 'expected printable text');
const packageRef = z.object({ name: text(256), version: text(256), arch: z.string().max(64) }).strict();
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const id = z.number().int().min(0).max(0xffffffff);

/** One installed package's claims: its key and stamp, MD5s and symlink digests at paths, the paths it owns. */
const WirePackage = z
  .object({
    key: text(300),
    pkg: packageRef,
    stamp: text(128),
    /**
     * Digests (base64: 16 bytes MD5, 32 bytes SHA-256 of a symlink's target) at paths, with the mode, uid and gid
     * the file had when the agent's import found it matching (`m`, `u`, `g`: see withObservedModes), when it did.
     */
    rows: z
      .array(z.object({ d: b64.max(64), p: path, m: z.number().int().min(0).max(0o7777).optional(), u: id.optional(), g: id.optional() }).strict())
      .max(200_000),
    owns: z.array(path).max(200_000),
    /** SHA-256 of the .deb this version came from, when the host still has it (apt's cache): the manager may ask for it. */
    deb: sha256.optional(),
  })
  .strict();

/** The side effects of maintainer scripts the agent verified, and the host's diversions and alternatives groups. */
const WireFinal = z
  .object({
    entries: z.array(z.object({ d: b64.max(64), p: path, pkg: packageRef.optional(), because: text(4200) }).strict()).max(100_000),
    absent: z.array(z.object({ p: path, pkg: packageRef.optional(), reason: text(4200) }).strict()).max(100_000),
    /** The alternatives groups registered now (a link of a group no longer registered went with it). */
    groups: z.array(text(256)).max(10_000),
    diversions: z.array(z.object({ from: path, to: path, by: text(256).optional() }).strict()).max(10_000),
    /** The host's /bin is a link into /usr (paths are kept under their /usr names). */
    merged: z.boolean(),
  })
  .strict();

/** `POST /v1/packages`: one chunk of the agent host's package changes; the last one (`final`) closes the report. */
export const PackageReport = z
  .object({
    databaseStamp: text(512),
    updated: z.array(WirePackage).max(2000),
    removed: z.array(text(300)).max(100_000),
    final: WireFinal.optional(),
  })
  .strict();
export type PackageReport = z.infer<typeof PackageReport>;

/** The answer: the .debs (by SHA-256) the manager wants to verify itself. */
export const PackageReportResponse = z.object({ applied: z.number().int().min(0), wantDebs: z.array(sha256) }).strict();
export type PackageReportResponse = z.infer<typeof PackageReportResponse>;

/** `GET /v1/packages`: what the manager holds of this agent's packages, so the agent sends only what differs. */
export const PackageStateResponse = z.object({ databaseStamp: z.string().optional(), packages: z.record(z.string(), z.string()) }).strict();
export type PackageStateResponse = z.infer<typeof PackageStateResponse>;

/** The answer to a .deb upload (`POST /v1/debs/<sha256>`). */
export const DebUploadResponse = z.object({ verified: z.boolean(), package: z.string().optional(), reason: z.string().optional() }).strict();
export type DebUploadResponse = z.infer<typeof DebUploadResponse>;

/** A package reference as it travels. */
export type WirePackageRef = z.infer<typeof packageRef>;

/** Identity, for symmetry with the other codecs. */
export function encodePackageRef(p: PackageRef): WirePackageRef {
  return { name: p.name, version: p.version, arch: p.arch };
}
