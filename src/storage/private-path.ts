import { statSync } from 'node:fs';
import { CustosError } from '../core/custos-error.js';

/**
 * Refuses a data directory or database file someone else could write to, as sshd's StrictModes does: it must be
 * owned by the user running Custos (or root) and not writable by group or others. Whoever can write there can
 * swap the baseline, or plant links that make root write where they choose. A path that does not exist yet
 * passes (it is created by this user).
 */
export function assertPrivatePath(path: string, what: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const uid = process.geteuid?.();
  if (uid === undefined) return;
  if (st.uid !== uid && st.uid !== 0) {
    throw new CustosError('STORE_FAILED', `refusing to use ${what} ${path}: it is owned by uid ${st.uid}, not by this user (uid ${uid}) or root`);
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    throw new CustosError(
      'STORE_FAILED',
      `refusing to use ${what} ${path}: it is writable by ${(st.mode & 0o002) !== 0 ? 'others' : 'its group'} (mode ${mode}); run chmod go-w on it`,
    );
  }
}
