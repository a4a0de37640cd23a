import { z } from 'zod';
import { CHECK_ALL, type CheckSet } from '../core/check-set.js';
import { fileStateFromJson, fileStateToJson } from '../core/file-state-json.js';
import { IO_PRIORITY_CLASSES } from '../core/config/scan-throttle-config.js';
import type { Observation } from '../core/observation.js';
import { DecodeError } from './decode-error.js';
import { decodeContent, encodeContent, MAX_BATCH_CONTENT_BYTES, WireContent } from './content-wire.js';

/**
 * The agent ↔ manager wire (ARCHITECTURE §3.3): HTTPS with JSON bodies, validated here on both ends. Anything
 * that does not validate is refused with a 400 and logged; it never reaches the pipeline.
 */

const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64')
  .max(8192);
/** Agent names and group names: they become file names on the manager, so no slashes or leading dots. */
export const hostName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'names are letters, digits, dot, dash, underscore (max 64)');
const agentId = z.string().regex(/^\d{3,9}$/, 'expected an agent id');

/** A directory a scan could not look into: its path (base64, absolute) and why, one line of printable text. */
const unscannedPath = z
  .object({
    p: base64.refine((b) => Buffer.from(b, 'base64')[0] === 0x2f, 'expected an absolute path'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(/^[^\p{Cc}]*$/u, 'expected one line of printable text'),
  })
  .strict();

/** `POST /v1/enroll`: a single-use token and a CSR buy an agent id and a client certificate. */
export const EnrollRequest = z
  .object({
    token: z.string().min(10).max(512),
    name: hostName,
    /** The configuration group it asks to join (`DATA/shared/groups/<group>.yml` on the manager). */
    group: hostName.optional(),
    /**
     * SHA-256 of this host's machine id (never the id itself): enrolling again from the same host under the same
     * name takes over the agent it was, with its baseline, instead of starting a new, silent one.
     */
    machineId: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    /** Take over this agent's identity and baseline (a reinstalled host): `agent enroll --replace ID`. */
    replace: z
      .string()
      .regex(/^\d{3,9}$/)
      .optional(),
    /** Enrol even though another agent already has this name. */
    allowDuplicateName: z.boolean().optional(),
    csr: z.string().min(100).max(16_384).startsWith('-----BEGIN CERTIFICATE REQUEST-----'),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequest>;

/** The answer to an enrollment. */
export const EnrollResponse = z
  .object({
    agentId,
    name: z.string(),
    cert: z.string(),
    ca: z.string(),
    /** Set when this enrolment took over an existing agent: the batch number to continue from. */
    nextSeq: z.number().int().min(1).optional(),
    inherited: z.boolean().optional(),
  })
  .strict();
export type EnrollResponse = z.infer<typeof EnrollResponse>;

/** The base64 length of the longest path an agent can walk (4096 bytes, PATH_MAX): longer ones are refused. */
const MAX_PATH_BASE64 = 5464;
/**
 * One file state's JSON at most: a path and a link target of 4 KB each, names, digests and issues fit many times
 * over; what does not (a 20 MB user name) is refused rather than stored in the baseline and history.
 */
const MAX_STATE_JSON = 64 << 10;

/** One observation on the wire: the path (base64), the state (absent: gone), and the checks as a bit mask. */
const WireObservation = z
  .object({
    p: base64.max(MAX_PATH_BASE64, 'paths are at most 4096 bytes'),
    s: z
      .unknown()
      .refine((state) => state === undefined || JSON.stringify(state).length <= MAX_STATE_JSON, `a file state is at most ${MAX_STATE_JSON} bytes of JSON`)
      .optional(),
    // 9 bits of OSSEC's checks, then (only to a manager that takes them) 6 bits of checks newer than those.
    c: z.number().int().min(0).max(32767),
    // The new content of a changed report_changes file, for the manager to diff (see content-wire.ts).
    d: WireContent.optional(),
  })
  .strict();

/** What ends a scan: its digest of the agent's whole state, and whether it was a full (resync) scan. */
const ScanEnd = z
  .object({
    id: z.string().min(1).max(64),
    full: z.boolean(),
    digest: z.string().regex(/^[0-9a-f]{64}$/),
    entries: z.number().int().min(0),
    durationMs: z.number().min(0),
    /**
     * Monitored directories the scan found nothing to scan in (path base64, and why): rule 572 on the manager.
     * The reason goes into alert text, so it is one line of printable text; the path is shown escaped.
     */
    unscannable: z.array(unscannedPath).max(256).optional(),
    /**
     * Parts of monitored directories the walk could not look into (an unreadable directory): rule 574 on the
     * manager, as standalone raises it. Same shape as `unscannable`; sent only to a manager that takes it.
     */
    unscannedSubtrees: z.array(unscannedPath).max(256).optional(),
    /**
     * The directories the scan covered (base64 paths). The manager retires what its baseline holds outside them
     * ("no longer monitored", never "deleted") and builds the baseline of a new one silently.
     */
    roots: z.array(base64).max(4096).optional(),
  })
  .strict();

/** `POST /v1/batches`: changes in scan order, numbered; applied exactly once, in order. */
export const BatchRequest = z
  .object({
    agentId,
    seq: z.number().int().min(1),
    /** The scan this batch belongs to; a full scan's batches are counted for the manager's sweep. */
    scan: z
      .object({ id: z.string().min(1).max(64), full: z.boolean(), first: z.boolean() })
      .strict()
      .optional(),
    /** Something the agent must report: its outbox overflowed while the manager was unreachable. */
    notice: z.enum(['outbox-overflow']).optional(),
    observations: z
      .array(WireObservation)
      .max(5000)
      // Each observation's content inflates to at most its declared size; the batch's together are bounded too, so
      // no batch can make the manager hold more than this in memory however well it compresses.
      .refine(
        (list) => list.reduce((sum, o) => sum + (o.d !== undefined && 'n' in o.d ? o.d.n : 0), 0) <= MAX_BATCH_CONTENT_BYTES,
        `the content in one batch is at most ${MAX_BATCH_CONTENT_BYTES} bytes`,
      ),
    end: ScanEnd.optional(),
  })
  .strict();
export type BatchRequest = z.infer<typeof BatchRequest>;

/**
 * The manager's answer: the highest sequence it holds, and whether it wants a full resync. A refused batch (409)
 * says why: `duplicate` when it is provably the batch last applied (only its acknowledgement was lost), `stateLost`
 * when the agent's numbering is behind what the manager applied (its state was lost or rolled back: it must
 * resynchronise, numbering on from `ack`).
 */
export const BatchResponse = z
  .object({
    ack: z.number().int().min(0),
    resync: z.boolean().optional(),
    duplicate: z.boolean().optional(),
    stateLost: z.boolean().optional(),
    error: z.string().optional(),
  })
  .strict();
export type BatchResponse = z.infer<typeof BatchResponse>;

/**
 * What an agent process holds and how its scans are throttled, as of its keep-alive: the manager's `/metrics`
 * shows it per agent. Sent only to a manager whose keep-alive answer said `footprint` (an older one refuses a body
 * with fields it does not know).
 */
export const AgentFootprintReport = z
  .object({
    /** Resident memory (VmRSS), bytes. */
    rssBytes: z
      .number()
      .int()
      .min(0)
      .max(2 ** 50),
    threads: z.number().int().min(0).max(1_000_000),
    throttle: z
      .object({
        processPriority: z.number().int().min(-20).max(19),
        ioClass: z.enum(IO_PRIORITY_CLASSES),
        ioLevel: z.number().int().min(0).max(7),
        filesPerSecond: z.number().positive().max(1e12).optional(),
        bytesPerSecond: z.number().positive().max(1e15).optional(),
        cpuSharePercent: z.number().positive().max(100).optional(),
        maxEps: z.number().int().min(0).max(1e9),
      })
      .strict(),
  })
  .strict();
export type AgentFootprintReport = z.infer<typeof AgentFootprintReport>;

/** `POST /v1/keepalive`: the highest batch number the agent has given out (so the manager can tell it fell behind), and its outbox. */
export const KeepaliveRequest = z
  .object({
    seq: z.number().int().min(0).optional(),
    /** Batches waiting in its outbox (a revoked agent's alert says what it still holds). */
    pending: z.number().int().min(0).optional(),
    footprint: AgentFootprintReport.optional(),
  })
  .strict();
export type KeepaliveRequest = z.infer<typeof KeepaliveRequest>;

/** The answer to a keep-alive: what the manager holds, and `stateLost` when the agent is behind it. */
export const KeepaliveResponse = z
  .object({
    ok: z.boolean(),
    ack: z.number().int().min(0),
    stateLost: z.boolean().optional(),
    /** The manager checks continuity and takes `end.roots` (older managers refuse a batch with fields they do not know). */
    continuity: z.boolean().optional(),
    /** The manager takes the newer check bits (capabilities, ACLs, ... link count) in observations. */
    inodeAttributes: z.boolean().optional(),
    /** The manager takes report_changes content in observations (`d`) and keeps the diffs. */
    contentDiffs: z.boolean().optional(),
    /** The manager takes the agent's footprint in keep-alives (`footprint`). */
    footprint: z.boolean().optional(),
  })
  .strict();
export type KeepaliveResponse = z.infer<typeof KeepaliveResponse>;

/** `GET /v1/config`: the agent's FIM configuration, as custos.yml text. */
export const ConfigResponse = z.object({ yaml: z.string(), version: z.string() }).strict();
export type ConfigResponse = z.infer<typeof ConfigResponse>;

const CHECK_BITS = ['md5', 'sha1', 'sha256', 'size', 'owner', 'group', 'perm', 'mtime', 'inode'] as const;

/**
 * Checks newer than the 9-bit mask older managers know, as bits 9-14. A bit is set when the check is OFF, so the
 * default (everything on) sends a number older managers accept; one that is off is sent only to a manager that
 * said it takes them (`inodeAttributes` in the keep-alive answer), and an older manager compares what the states
 * carry.
 */
const NEWER_CHECK_BITS = ['capabilities', 'acl', 'selinux', 'xattrs', 'flags', 'linkCount'] as const;

/** Packs a check set into 9 bits, plus the newer checks' 6 when `newer` (the manager takes them). */
export function encodeChecks(checks: CheckSet, newer = true): number {
  let mask = CHECK_BITS.reduce((m, key, i) => (checks[key] ? m | (1 << i) : m), 0);
  if (newer) NEWER_CHECK_BITS.forEach((key, i) => (mask = checks[key] ? mask : mask | (1 << (CHECK_BITS.length + i))));
  return mask;
}

/** Unpacks {@link encodeChecks}. */
export function decodeChecks(mask: number): CheckSet {
  const out: Record<string, boolean> = {};
  CHECK_BITS.forEach((key, i) => {
    out[key] = (mask & (1 << i)) !== 0;
  });
  NEWER_CHECK_BITS.forEach((key, i) => {
    out[key] = (mask & (1 << (CHECK_BITS.length + i))) === 0;
  });
  return { ...CHECK_ALL, ...out };
}

/** An observation as it travels; `newerChecks` when the manager takes the newer check bits. */
export function encodeObservation(o: Observation, newerChecks = true): z.infer<typeof WireObservation> {
  return {
    p: o.path.toString('base64'),
    ...(o.current === undefined ? {} : { s: fileStateToJson(o.current) }),
    c: encodeChecks(o.checks, newerChecks),
    ...(o.content === undefined ? {} : { d: encodeContent(o.content) }),
  };
}

/**
 * An observation as the manager receives it. The agent's cache is untrusted, so the manager always consults its
 * own baseline (`inBaseline: true`). A state whose path differs from the observation's is refused. Anything that
 * does not decode throws a {@link DecodeError}.
 */
export function decodeObservation(w: z.infer<typeof WireObservation>): Observation {
  const path = Buffer.from(w.p, 'base64');
  if (path.length === 0 || path[0] !== 0x2f) throw new DecodeError('observation path must be absolute');
  // No file name holds a NUL, and the baseline's key maps '/' to NUL: "/etc\0passwd" would alias /etc/passwd.
  if (path.includes(0)) throw new DecodeError('observation path contains a NUL byte');
  if (w.s === undefined) {
    if (w.d !== undefined) throw new DecodeError('observation content sent for a path that is gone');
    return { path, checks: decodeChecks(w.c), inBaseline: true };
  }
  const current = decodeFileState(w.s);
  if (!current.path.equals(path)) throw new DecodeError('observation path and state path differ');
  const content = w.d === undefined ? undefined : decodeContent(w.d, current.hashes.sha256);
  return { path, current, checks: decodeChecks(w.c), inBaseline: true, ...(content === undefined ? {} : { content }) };
}

/**
 * A scan root as the manager receives it (`end.roots`, base64): an absolute path without NUL bytes, or a
 * {@link DecodeError}.
 */
export function decodeScanRoot(base64: string): Buffer {
  const path = Buffer.from(base64, 'base64');
  if (path.length === 0 || path[0] !== 0x2f || path.includes(0)) throw new DecodeError('scan root must be an absolute path');
  return path;
}

/** The core's file-state reader throws TypeError on bad input; from the wire that is the peer's fault. */
function decodeFileState(json: unknown): ReturnType<typeof fileStateFromJson> {
  try {
    return fileStateFromJson(json);
  } catch (error) {
    if (error instanceof TypeError) throw new DecodeError(error.message, { cause: error });
    throw error;
  }
}
