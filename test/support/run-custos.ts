import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built `custos` launcher, as users run it. */
export const CUSTOS_BIN = fileURLToPath(new URL('../../../bin/custos.js', import.meta.url));

/** What one `custos` run did. */
export interface CustosRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
}

/**
 * Runs the real CLI in a child process. `uid`/`gid` run it unprivileged; `timeoutMs` kills a hung run (the test
 * then fails on a null exit code instead of hanging CI).
 */
export function runCustos(
  args: readonly string[],
  options: { uid?: number; gid?: number; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CustosRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CUSTOS_BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TZ: 'UTC', ...options.env },
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });
}

/** Parses JSON-lines output. */
export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}
