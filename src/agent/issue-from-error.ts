import type { FileIssue } from '../core/file-state.js';

/** Turns an error from a file system call into the per-file issue it means for the scan. */
export function issueFromError(error: unknown): FileIssue {
  const code = (error as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall ?? 'access';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return { code: 'permission-denied', message: `${syscall}: permission denied` };
    case 'ENOENT':
    case 'ENOTDIR':
      return { code: 'vanished', message: `${syscall}: the entry disappeared during the scan` };
    case 'ELOOP':
      return { code: 'changed-while-hashed', message: `${syscall}: replaced by a symlink during the scan` };
    case 'ENAMETOOLONG':
      return { code: 'path-too-long', message: `${syscall}: the path is longer than the system allows` };
    default:
      return { code: 'io-error', message: `${syscall}: ${code}` };
  }
}
