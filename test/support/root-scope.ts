import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * A fresh directory under `/opt`, removed when the test file finishes: tests that monitor `/` itself change
 * files here, the one place of the real root they are allowed to touch.
 */
export function optTempDir(prefix = 'custos-root-test-'): string {
  const dir = mkdtempSync(join('/opt', prefix));
  after(() => {
    if (process.env.CUSTOS_TEST_KEEP === '1') return;
    execFileSync('rm', ['-rf', dir]);
  });
  return dir;
}

/**
 * The `ignore` entries that bound a scan of `/` to `kept` (an absolute path) and the directories on the way to
 * it: every other entry of `/` and of each ancestor of `kept` (`/proc`, `/usr`, `/var`, the other engineers'
 * trees...), read from the real root now. A whole-root scan in a test then takes milliseconds, yet walks `/`
 * exactly as a production one does: the root entry, its child `opt`, and so on down.
 */
export function ignoresAround(kept: string): string[] {
  const parts = kept.split('/').filter((p) => p !== '');
  const ignores: string[] = [];
  for (let depth = 0; depth < parts.length; depth++) {
    const dir = `/${parts.slice(0, depth).join('/')}`;
    for (const name of readdirSync(dir)) if (name !== parts[depth]) ignores.push(join(dir, name));
  }
  return ignores;
}
