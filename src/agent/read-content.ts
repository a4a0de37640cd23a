import { hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { CapturedContent } from '../core/diff/content-capture.js';

// As hashing (hash-file.ts): never through a symlink planted at the path, never blocked by a FIFO, no terminal.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW | constants.O_NOCTTY;

/**
 * Reads a changed report_changes file's content for its diff: only a regular file, at most `limitBytes` (one
 * byte more tells a file that grew past it), and only bytes whose SHA-256 is the one the scan recorded, so the
 * diff describes exactly the version the alert is about. Anything else comes back as the reason there is no
 * content, never as an exception.
 */
export function readContent(path: Buffer, limitBytes: number, expectedSha256: string | undefined): CapturedContent {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ELOOP: the path is a symlink now (O_NOFOLLOW); its target is nobody's business here.
    if (code === 'ELOOP') return { kind: 'none', reason: 'not-regular', detail: 'replaced by a symbolic link' };
    return { kind: 'none', reason: 'unreadable', detail: code ?? (error as Error).message };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { kind: 'none', reason: 'not-regular' };
    if (st.size > limitBytes) return { kind: 'none', reason: 'too-large', detail: `${st.size} bytes`, limitBytes };
    const buffer = Buffer.allocUnsafe(Math.min(limitBytes + 1, st.size + 1));
    let got = 0;
    while (got < buffer.length) {
      const n = readSync(fd, buffer, got, buffer.length - got, null);
      if (n === 0) break;
      got += n;
    }
    // Grew while read: the scan's digest cannot describe these bytes.
    if (got > st.size) return got > limitBytes ? { kind: 'none', reason: 'too-large', limitBytes } : { kind: 'none', reason: 'changed-while-read' };
    const bytes = buffer.subarray(0, got);
    const sha256 = hash('sha256', bytes, 'hex');
    if (expectedSha256 !== undefined && sha256 !== expectedSha256) return { kind: 'none', reason: 'changed-while-read' };
    return { kind: 'bytes', bytes: Buffer.from(bytes), sha256 };
  } catch (error) {
    return { kind: 'none', reason: 'unreadable', detail: (error as NodeJS.ErrnoException).code ?? (error as Error).message };
  } finally {
    closeSync(fd);
  }
}
