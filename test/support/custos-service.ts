import { spawn, type ChildProcess } from 'node:child_process';
import { CUSTOS_BIN } from './run-custos.js';

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** One pino log line, as a service writes it to stderr. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/**
 * A long-running `custos` process (manager or agent) whose JSON log lines are collected as they come, so a test
 * can wait for one. Whatever happens, it does not outlive the test process.
 */
export class CustosService {
  readonly lines: LogLine[] = [];
  /** Non-JSON stderr (a crash's stack trace would land here). */
  readonly other: string[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  #exitCode: number | null | undefined;
  #waiters = new Set<() => void>();

  /** `wrapper`: a command that execs the rest (e.g. `setpriv` dropping capabilities), run in front of node. */
  constructor(args: readonly string[], wrapper: readonly string[] = []) {
    const command = [...wrapper, process.execPath, CUSTOS_BIN, ...args];
    this.#child = spawn(command[0] as string, command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    let partial = '';
    this.#child.stderr?.setEncoding('utf8');
    this.#child.stderr?.on('data', (chunk: string) => {
      partial += chunk;
      const complete = partial.split('\n');
      partial = complete.pop() ?? '';
      for (const text of complete) {
        if (text.trim() === '') continue;
        try {
          this.lines.push(JSON.parse(text) as LogLine);
        } catch {
          this.other.push(text);
        }
      }
      for (const wake of this.#waiters) wake();
    });
    this.#exited = new Promise((resolve) => {
      this.#child.on('exit', (code) => {
        this.#exitCode = code;
        for (const wake of this.#waiters) wake();
        resolve(code);
      });
    });
    live.add(this.#child);
    this.#child.on('exit', () => live.delete(this.#child));
  }

  /** The process id (to read its memory use from /proc). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.#exitCode === undefined;
  }

  /** Resolves with the first log line (from `from` on) that matches; rejects on timeout or exit. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs = 20_000, from = 0): Promise<LogLine> {
    timeoutMs = scaledWait(timeoutMs);
    return new Promise((resolve, reject) => {
      let index = from;
      const check = (): void => {
        for (; index < this.lines.length; index++) {
          const line = this.lines[index];
          if (line !== undefined && match(line)) return finish(undefined, line);
        }
        if (this.#exitCode !== undefined) finish(new Error(`custos exited (${this.#exitCode}) before the awaited log line; stderr:\n${this.describe()}`));
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for a log line; stderr:\n${this.describe()}`)), timeoutMs);
      const finish = (error: Error | undefined, line?: LogLine): void => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (error !== undefined || line === undefined) reject(error ?? new Error('no line'));
        else resolve(line);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Waits for a message (exact text or pattern) from `from` on. */
  waitForMessage(message: string | RegExp, timeoutMs?: number, from?: number): Promise<LogLine> {
    return this.waitForLog((l) => (typeof message === 'string' ? l.msg === message : message.test(l.msg)), timeoutMs, from);
  }

  /** Sends a signal and returns at once (SIGHUP: reopen the alert files). */
  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Sends a signal and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.#exitCode === undefined) this.#child.kill(signal);
    return this.#exited;
  }

  /** The log, for failure messages. */
  describe(): string {
    return [...this.lines.slice(-40).map((l) => JSON.stringify(l)), ...this.other.slice(-40)].join('\n');
  }
}

/**
 * How much longer than written every wait above may last: `CUSTOS_TEST_WAIT_SCALE`, 3 by default. The waits are
 * bounds on how long a test gives real processes to do something, never a claim about speed (speed is measured by
 * the bench), so a loaded machine (the suite runs three files at a time on two cores) must not turn them into
 * failures; a passing test never waits longer for it.
 */
export const WAIT_SCALE = Number(process.env.CUSTOS_TEST_WAIT_SCALE ?? 3);

/** A wait bound scaled by `WAIT_SCALE`. */
export function scaledWait(ms: number): number {
  return Math.round(ms * WAIT_SCALE);
}

/** Polls `probe` until it returns something other than undefined. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
  what: string | (() => string) = 'a condition',
): Promise<T> {
  timeoutMs = scaledWait(timeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
