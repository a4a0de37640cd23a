import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { Duplex, PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { CustosError } from '../../core/custos-error.js';
import { parseDeb822 } from '../../core/deb822.js';
import type { DeclaredMode } from '../../core/declared-mode.js';
import { assertRegularInput } from './regular-input.js';

/** The control files Custos uses (identity and conffiles); the others are skipped unread. */
const CONTROL_FILES_READ: ReadonlySet<string> = new Set(['control', 'conffiles']);
const MAX_CONTROL_FILE_BYTES = 1 << 20;

/** One ar member of a .deb: its name and where its bytes are in the file. */
interface ArMember {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
}

/** A regular file in a .deb's payload, with the digests of its content. */
export interface DebFile {
  /** Absolute path as the package installs it (`/usr/bin/hello`), exact bytes. */
  readonly path: Buffer;
  readonly sha256: Buffer;
  readonly md5: Buffer;
  readonly size: number;
  /** The mode and owner the tar header gives it: what dpkg installs it with. */
  readonly declared: DeclaredMode;
}

/** A symlink in a .deb's payload. */
export interface DebSymlink {
  readonly path: Buffer;
  readonly target: Buffer;
}

/** What Custos reads from a .deb without installing it. */
export interface DebContents {
  readonly package: string;
  readonly version: string;
  readonly arch: string;
  readonly conffiles: readonly string[];
  readonly files: readonly DebFile[];
  readonly symlinks: readonly DebSymlink[];
}

/**
 * Reads a .deb: the ar container, `control.tar.*` (package identity and conffiles) and `data.tar.*` (every regular
 * file, hashed with SHA-256 and MD5 as it streams by; a hard link takes its target's digests, since tar stores no
 * content for it). Compressions: none, gzip (zlib), xz, zstd, bzip2 and lzma (the system's `xz`, `zstd` and
 * `bzip2` tools, streamed).
 */
export async function readDebArchive(file: string): Promise<DebContents> {
  assertRegularInput(file);
  const members = readArMembers(file);
  const names = members.map((m) => m.name);
  if (names[0] !== 'debian-binary') throw debError(file, `not a Debian package (first ar member is ${names[0] ?? 'missing'})`);
  const control = members.find((m) => m.name.startsWith('control.tar'));
  const data = members.find((m) => m.name.startsWith('data.tar'));
  if (control === undefined || data === undefined) throw debError(file, 'missing control.tar or data.tar member');
  const controlFiles = new Map<string, Buffer>();
  await readTar(file, control, async (name, stream) => {
    const member = name.replace(/^\.?\//, '');
    // Only two control files are read, each bounded: a 100 KB package whose control member inflates to 3 GB
    // must not take 6 GB of memory.
    if (!CONTROL_FILES_READ.has(member)) {
      stream.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > MAX_CONTROL_FILE_BYTES) throw debError(file, `control file ${member} is larger than ${MAX_CONTROL_FILE_BYTES >> 20} MB`);
      chunks.push(chunk as Buffer);
    }
    controlFiles.set(member, Buffer.concat(chunks));
  });
  const fields = parseDeb822((controlFiles.get('control') ?? Buffer.alloc(0)).toString('utf8')).next().value;
  const pkg = fields?.get('Package');
  if (pkg === undefined) throw debError(file, 'control file has no Package field');
  const { files, symlinks } = await hashPayload(file, data);
  return {
    package: pkg,
    version: fields?.get('Version') ?? '',
    arch: fields?.get('Architecture') ?? '',
    conffiles: (controlFiles.get('conffiles')?.toString('utf8') ?? '')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('/')),
    files,
    symlinks,
  };
}

async function hashPayload(file: string, member: ArMember): Promise<{ files: DebFile[]; symlinks: DebSymlink[] }> {
  const files: DebFile[] = [];
  const symlinks: DebSymlink[] = [];
  const byPath = new Map<string, DebFile>();
  const links: { path: Buffer; target: string }[] = [];
  await readTar(file, member, async (name, stream, header) => {
    const path = payloadPath(name, file, header.pax?.path !== undefined);
    if (header.type === 'link') {
      links.push({ path, target: payloadPath(header.linkname ?? '', file, header.pax?.linkpath !== undefined).toString('latin1') });
      stream.resume();
      return;
    }
    if (header.type === 'symlink') {
      symlinks.push({ path, target: Buffer.from(header.linkname ?? '', header.pax?.linkpath !== undefined ? 'utf8' : 'latin1') });
      stream.resume();
      return;
    }
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      stream.resume();
      return;
    }
    const sha256 = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    for await (const chunk of stream) {
      sha256.update(chunk as Buffer);
      md5.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    const entry: DebFile = { path, sha256: sha256.digest(), md5: md5.digest(), size, declared: declaredOf(header) };
    files.push(entry);
    byPath.set(path.toString('latin1'), entry);
  });
  for (const link of links) {
    const target = byPath.get(link.target);
    if (target === undefined) throw debError(file, `hard link ${link.path.toString()} points to ${link.target}, which is not an earlier regular file`);
    files.push({ ...target, path: link.path });
  }
  return { files, symlinks };
}

/**
 * `./usr/bin/x` → `/usr/bin/x`, as exact bytes: ustar and GNU names were decoded as latin1 (one char per byte),
 * pax names are UTF-8 by the standard. Anything absolute or climbing out with `..` is refused.
 */
function payloadPath(name: string, file: string, utf8 = false): Buffer {
  const relative = Buffer.from(name, utf8 ? 'utf8' : 'latin1')
    .toString('latin1')
    .replace(/^\.\//, '')
    .replace(/\/+$/, '');
  if (relative.startsWith('/') || relative.split('/').includes('..')) throw debError(file, `unsafe path in payload: ${relative}`);
  return Buffer.from(`/${relative}`, 'latin1');
}

type TarHeader = {
  type?: string | null;
  linkname?: string | null;
  pax?: Record<string, string> | null;
  mode?: number | null;
  uid?: number | null;
  gid?: number | null;
  uname?: string | null;
  gname?: string | null;
};

/** The mode, ids and names of a tar entry (names only when the archive has them: dpkg-deb writes both). */
function declaredOf(h: TarHeader): DeclaredMode {
  return {
    mode: (h.mode ?? 0) & 0o7777,
    ...(typeof h.uid === 'number' ? { uid: h.uid } : {}),
    ...(typeof h.gid === 'number' ? { gid: h.gid } : {}),
    ...(h.uname ? { owner: h.uname } : {}),
    ...(h.gname ? { group: h.gname } : {}),
  };
}

async function readTar(file: string, member: ArMember, onEntry: (name: string, stream: Readable, header: TarHeader) => Promise<void>): Promise<void> {
  const source = createReadStream(file, { start: member.offset, end: member.offset + member.size - 1 });
  // Names are read as latin1 so every byte of a non-UTF-8 name survives into a Buffer.
  const tar = extract({ filenameEncoding: 'latin1' } as Parameters<typeof extract>[0]);
  const decompress = decompressor(member.name, file);
  const consume = (async (): Promise<void> => {
    for await (const entry of tar) {
      await onEntry(entry.header.name, entry as unknown as Readable, entry.header as TarHeader);
    }
  })();
  try {
    await Promise.all([pipeline(source, decompress.stream, tar), consume]);
  } catch (error) {
    // A refusal mid-stream (an unsafe path, an oversized control file, a corrupt stream) ends everything: the
    // streams are torn down and a decompressor child is killed and reaped, so the import ends instead of
    // leaving it blocked on a full pipe.
    source.destroy();
    tar.destroy();
    decompress.stream.destroy();
    await decompress.stop();
    await Promise.allSettled([consume]);
    throw error;
  }
}

/** A decompressing stream, and how to stop the process behind it (if any) and wait until it is gone. */
interface Decompressor {
  readonly stream: Duplex;
  stop(): Promise<void>;
}

function decompressor(name: string, file: string): Decompressor {
  const ext = name.slice(name.indexOf('.tar') + 4);
  const inProcess = (stream: Duplex): Decompressor => ({ stream, stop: async () => undefined });
  switch (ext) {
    case '':
      return inProcess(new PassThrough());
    case '.gz':
      return inProcess(createGunzip());
    case '.xz':
      return tool('xz', ['-dc'], file);
    case '.lzma':
      return tool('xz', ['--format=lzma', '-dc'], file);
    case '.zst':
      return tool('zstd', ['-dcq'], file);
    case '.bz2':
      return tool('bzip2', ['-dc'], file);
    default:
      throw debError(file, `unsupported compression of ${name}`);
  }
}

/** Streams through an external decompressor; a missing tool or a corrupt stream becomes a clear error. */
function tool(command: string, args: readonly string[], file: string): Decompressor {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  const stderr: Buffer[] = [];
  let stderrBytes = 0;
  child.stderr.on('data', (d: Buffer) => {
    // Only the start of what it says is kept for the error message.
    if (stderrBytes < 4096) stderr.push(d);
    stderrBytes += d.length;
  });
  // 'exit' (not 'close'): once it is killed, its pipes are destroyed unread and would never report closed.
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.on('error', (error) => duplex.destroy(debError(file, `cannot run ${command} (install it to read this package): ${error.message}`)));
  child.on('close', (code) => {
    if (code !== 0) duplex.destroy(debError(file, `${command} failed: ${Buffer.concat(stderr).toString().trim() || `exit ${code}`}`));
  });
  return {
    stream: duplex,
    stop: async () => {
      const running = child.exitCode === null && child.signalCode === null;
      if (running) child.kill('SIGKILL');
      child.stdin.destroy();
      child.stdout.destroy();
      child.stderr.destroy();
      if (running && child.pid !== undefined) await exited;
    },
  };
}

/** Reads the ar member table of a .deb (60-byte headers, data padded to even offsets). */
export function readArMembers(file: string): ArMember[] {
  const fd = openSync(file, 'r');
  try {
    const magic = Buffer.alloc(8);
    readSync(fd, magic, 0, 8, 0);
    if (magic.toString('latin1') !== '!<arch>\n') throw debError(file, 'not an ar archive');
    const members: ArMember[] = [];
    const header = Buffer.alloc(60);
    let offset = 8;
    while (readSync(fd, header, 0, 60, offset) === 60) {
      if (header.toString('latin1', 58, 60) !== '`\n') throw debError(file, `corrupt ar header at offset ${offset}`);
      const name = header.toString('latin1', 0, 16).trim().replace(/\/$/, '');
      const size = Number.parseInt(header.toString('latin1', 48, 58).trim(), 10);
      if (!Number.isSafeInteger(size) || size < 0) throw debError(file, `corrupt ar member size at offset ${offset}`);
      members.push({ name, offset: offset + 60, size });
      offset += 60 + size + (size % 2);
    }
    return members;
  } finally {
    closeSync(fd);
  }
}

function debError(file: string, message: string): CustosError {
  return new CustosError('USAGE', `${file}: ${message}`);
}
