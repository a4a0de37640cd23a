import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { PackageRef } from '../core/known-hash-policy.js';
import { openDpkgDatabase, readDiversions, dpkgDatabaseStamp, type DpkgDatabase } from '../host/dpkg-database.js';
import { readAlternatives } from '../host/dpkg-alternatives.js';
import { verifySideEffects } from '../host/dpkg-side-effects.js';
import { withObservedModes } from '../host/observed-modes.js';
import type { DeclaredMode } from '../core/declared-mode.js';
import { DebUploadResponse, PackageReportResponse, PackageStateResponse, type PackageReport } from '../protocol/package-wire.js';
import { activeManagerUrl, callManager, ManagerUnreachable, type ManagerEndpoint } from './manager-client.js';

/** Where the reporter keeps what it last reported, between runs (the agent's state database). */
export interface ReporterMemory {
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
}

/** What one report did. */
export interface PackageReportSummary {
  readonly sent: number;
  readonly removed: number;
  readonly uploaded: number;
  readonly refused: number;
}

const REPORTED = 'packages_reported_stamp';
const LOCAL_LIBRARIES = 'local_libraries';
// Rows per request: a chunk stays well under the manager's body limit.
const CHUNK_ROWS = 20_000;

/**
 * Reports the agent host's package database to the manager whenever dpkg changed it, so that the package changes
 * the scans find are explained there: the installed, upgraded and removed packages (their MD5s, symlink targets and
 * paths, as this host claims them), the maintainer-script side effects that check out here, the diversions, and
 * the .debs still in apt's cache that the manager asks for, which it verifies itself against the signed indexes it
 * trusts. The manager says what it holds, so a report sends only what differs (after a lost state, everything).
 */
export class PackageReporter {
  readonly #endpoint: ManagerEndpoint;
  readonly #memory: ReporterMemory;
  readonly #log: Logger;
  readonly #root: string;
  readonly #archives: string;
  #unsupported = false;

  constructor(options: { endpoint: ManagerEndpoint; memory: ReporterMemory; log: Logger; root?: string; archives?: string }) {
    this.#endpoint = options.endpoint;
    this.#memory = options.memory;
    this.#log = options.log;
    this.#root = options.root ?? '/';
    this.#archives = options.archives ?? join(this.#root, 'var/cache/apt/archives');
  }

  /** True when dpkg changed something since the last report that the manager took. */
  pending(): boolean {
    if (this.#unsupported) return false;
    const stamp = safeStamp(this.#root);
    return stamp !== undefined && stamp !== this.#memory.getMeta(REPORTED);
  }

  /** Reports what changed, when anything did. Throws ManagerUnreachable when the manager cannot be reached. */
  async report(): Promise<PackageReportSummary | undefined> {
    if (!this.pending()) return undefined;
    const state = await callManager(this.#endpoint, 'GET', '/v1/packages');
    if (state.status === 404) {
      this.#unsupported = true;
      this.#log.info('the manager keeps no package state: package changes are explained only by what it imported itself');
      return undefined;
    }
    const held = PackageStateResponse.safeParse(state.body);
    if (state.status !== 200 || !held.success) throw new Error(`the manager answered ${state.status} to GET /v1/packages`);
    const db = openDpkgDatabase(this.#root);
    const first = Object.keys(held.data.packages).length === 0;
    const changed = [...db.installed.values()].filter((p) => held.data.packages[p.key] !== p.stamp);
    const removed = Object.keys(held.data.packages).filter((k) => !db.installed.has(k));
    const debs = new Map<string, string>();
    const wanted = new Set<string>();
    let chunk: PackageReport['updated'] = [];
    let rows = 0;
    let removedSent = false;
    const send = async (final?: PackageReport['final']): Promise<void> => {
      const body: PackageReport = { databaseStamp: db.stamp, updated: chunk, removed: removedSent ? [] : removed, ...(final === undefined ? {} : { final }) };
      const reply = await callManager(this.#endpoint, 'POST', '/v1/packages', body, 120_000);
      const answer = PackageReportResponse.safeParse(reply.body);
      if (reply.status !== 200 || !answer.success) throw new Error(`the manager refused a package report (${reply.status}): ${reply.text.slice(0, 200)}`);
      for (const sha of answer.data.wantDebs) wanted.add(sha);
      removedSent = true;
      chunk = [];
      rows = 0;
    };
    for (const installed of changed) {
      const update = db.update(installed.key);
      // The .deb of what a dpkg run just installed (not of the whole installed base at the first report).
      const deb = first ? undefined : this.#debOf(installed.package);
      if (deb !== undefined) debs.set(deb.sha256, deb.file);
      chunk.push({
        key: installed.key,
        pkg: installed.package,
        stamp: installed.stamp,
        // md5sums carry no mode: what each file has on disk, where it checks out (see withObservedModes).
        rows: withObservedModes(this.#root, update.rows).map((r) => ({
          d: r.digest.toString('base64'),
          p: (r.path as Buffer).toString('base64'),
          ...wireMode(r.declared),
        })),
        owns: update.owns.map((p) => p.toString('base64')),
        ...(deb === undefined ? {} : { deb: deb.sha256 }),
      });
      rows += update.rows.length + update.owns.length;
      if (rows >= CHUNK_ROWS) await send();
    }
    await send(await this.#final(db, first));
    let uploaded = 0;
    let refused = 0;
    for (const sha of wanted) {
      const file = debs.get(sha);
      if (file === undefined) continue;
      const outcome = await uploadDeb(this.#endpoint, sha, file);
      if (outcome.verified) uploaded++;
      else refused++;
      this.#log.info({ package: outcome.package, verified: outcome.verified, reason: outcome.reason }, 'package uploaded for verification');
    }
    this.#memory.setMeta(REPORTED, db.stamp);
    this.#log.info({ sent: changed.length, removed: removed.length, uploaded, refused }, 'package changes reported');
    return { sent: changed.length, removed: removed.length, uploaded, refused };
  }

  /** The side effects that check out here, the diversions and alternatives groups: sent with the last chunk. */
  async #final(db: DpkgDatabase, first: boolean): Promise<NonNullable<PackageReport['final']>> {
    const owned = db.owners();
    // The host's own libraries in ld.so.cache are taken as they are at the first report only (as at a full import).
    const saved = this.#memory.getMeta(LOCAL_LIBRARIES);
    const trusted = first || saved === undefined ? 'all' : new Set<string>(JSON.parse(saved) as string[]);
    const effects = await verifySideEffects(
      this.#root,
      async (paths) =>
        new Map(
          paths.flatMap((p) => (owned.has(p.toString('latin1')) ? [[p.toString('latin1'), owned.get(p.toString('latin1')) as PackageRef] as const] : [])),
        ),
      trusted,
    );
    if (trusted === 'all') this.#memory.setMeta(LOCAL_LIBRARIES, JSON.stringify(effects.localLibraries));
    if (effects.unexplained.length > 0)
      this.#log.warn({ unexplained: effects.unexplained }, 'package side effects that do not check out here: they will alert');
    const ref = (pkg: PackageRef | undefined) => (pkg === undefined ? {} : { pkg: { name: pkg.name, version: pkg.version, arch: pkg.arch } });
    return {
      entries: effects.entries.map((e) => ({
        d: e.row.digest.toString('base64'),
        p: (e.row.path as Buffer).toString('base64'),
        ...ref(e.row.package),
        because: e.because,
      })),
      absent: effects.absent.map((a) => ({ p: a.path.toString('base64'), ...ref(a.package), reason: a.reason })),
      groups: readAlternatives(this.#root).groups.map((g) => g.name),
      diversions: readDiversions(this.#root).map((d) => ({
        from: d.from.toString('base64'),
        to: d.to.toString('base64'),
        ...(d.by === undefined ? {} : { by: d.by }),
      })),
      merged: db.merged,
    };
  }

  /** The .deb apt's cache holds for exactly this version, with its SHA-256. */
  #debOf(pkg: PackageRef): { file: string; sha256: string } | undefined {
    // apt names cached files name_version_arch.deb, with the epoch's ':' escaped as %3a.
    const file = join(this.#archives, `${pkg.name}_${pkg.version.replace(':', '%3a')}_${pkg.arch}.deb`);
    const st = statSync(file, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) return undefined;
    return { file, sha256: sha256Of(file) };
  }
}

/** SHA-256 of a file, read a megabyte at a time (a .deb can be hundreds of megabytes). */
function sha256Of(file: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(file, 'r');
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** A row's observed mode and owner as the wire carries them (`m`, `u`, `g`), or nothing. */
function wireMode(declared: DeclaredMode | undefined): { m?: number; u?: number; g?: number } {
  if (declared === undefined) return {};
  return { m: declared.mode, ...(declared.uid === undefined ? {} : { u: declared.uid }), ...(declared.gid === undefined ? {} : { g: declared.gid }) };
}

function safeStamp(root: string): string | undefined {
  try {
    statSync(join(root, 'var/lib/dpkg/status'));
    return dpkgDatabaseStamp(root);
  } catch {
    return undefined;
  }
}

/** Streams one .deb to the manager (`POST /v1/debs/<sha256>`). */
function uploadDeb(endpoint: ManagerEndpoint, sha256: string, file: string): Promise<DebUploadResponse> {
  const url = new URL(`/v1/debs/${sha256}`, activeManagerUrl(endpoint));
  const size = statSync(file).size;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        timeout: 600_000,
        minVersion: 'TLSv1.3',
        headers: { 'content-type': 'application/octet-stream', 'content-length': size },
        ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca, checkServerIdentity: () => undefined }),
        ...(endpoint.cert === undefined || endpoint.key === undefined ? {} : { cert: endpoint.cert, key: endpoint.key }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = undefined;
          }
          const body = DebUploadResponse.safeParse(parsed);
          resolve(body.success ? body.data : { verified: false, reason: `the manager answered ${res.statusCode ?? 0}` });
        });
      },
    );
    req.on('timeout', () => req.destroy(new ManagerUnreachable(`no answer to the upload of ${file}`)));
    req.on('error', (error) =>
      reject(error instanceof ManagerUnreachable ? error : new ManagerUnreachable(`upload of ${file} failed: ${error.message}`, { cause: error })),
    );
    createReadStream(file)
      .on('error', (error) => req.destroy(error))
      .pipe(req);
  });
}
