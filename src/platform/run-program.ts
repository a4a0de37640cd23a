import { spawn } from 'node:child_process';

/** What a program printed and how it ended. */
export interface ProgramResult {
  /** The exit status; -1 when the program could not be started at all. */
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * Runs a program with arguments (never through a shell), optionally feeding stdin, and collects its output.
 * Never throws for a failing or missing program: the caller reads `code` and `stderr` and says what went wrong.
 */
export function runProgram(command: string, args: readonly string[], input?: string | Buffer): Promise<ProgramResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    child.on('error', (error) => resolve({ code: -1, stdout: Buffer.alloc(0), stderr: `cannot run ${command}: ${error.message}` }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    if (input !== undefined) {
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(input);
    }
  });
}
