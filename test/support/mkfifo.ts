import { execFileSync } from 'node:child_process';

/** Node has no mkfifo; coreutils does. */
export function mkfifoSync(path: string): void {
  execFileSync('mkfifo', [path]);
}

/** Creates a character device node (needs root). */
export function mknodCharSync(path: string, major: number, minor: number): void {
  execFileSync('mknod', [path, 'c', String(major), String(minor)]);
}
