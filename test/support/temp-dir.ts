import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * A fresh directory under the system temp dir, removed when the test (or file) finishes (kept when `CUSTOS_TEST_KEEP=1`). Removal uses `rm -rf`,
 * which (unlike fs.rmSync) copes with trees deeper than PATH_MAX, and chmods first so unreadable test dirs go too.
 */
export function tempDir(prefix = 'custos-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => {
    // Set CUSTOS_TEST_KEEP=1 to keep the directories of a failing run for a look.
    if (process.env.CUSTOS_TEST_KEEP === '1') return;
    execFileSync('chmod', ['-R', 'u+rwx', dir], { stdio: 'ignore' });
    execFileSync('rm', ['-rf', dir]);
  });
  return dir;
}

/** Joins path bytes: for names that are not valid UTF-8. */
export function bytesPath(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}
