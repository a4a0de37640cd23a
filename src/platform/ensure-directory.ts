import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Creates a directory and its missing parents, one level at a time. Not `mkdirSync(..., { recursive: true })`:
 * on Node 20 that spins forever when mkdir answers ENOENT for a parent that exists (e.g. anything under /proc),
 * and a mistyped path must give an error, not a hung process.
 */
export function ensureDirectory(path: string, mode = 0o700): void {
  const missing: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      mkdirSync(dir, { mode });
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') break;
      if (code !== 'ENOENT' || dirname(dir) === dir || missing.includes(dir)) throw error;
      missing.push(dir);
    }
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}
