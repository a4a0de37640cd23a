import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { KnownHashRow, KnownHashStore } from '../../src/hashdb/known-hash-store.js';

/** The SHA-256 of a label, as the import-window tests make their digests. */
export const sha = (s: string): Buffer => createHash('sha256').update(s).digest();
/** The same, as the hashes a lookup takes. */
export const hex = (s: string): { sha256: string } => ({ sha256: sha(s).toString('hex') });

/**
 * The rows of the first batch of a long import in the import-window tests (SQLite's and PostgreSQL's): a known-bad
 * digest ('dropper'), a hash-only known one ('nsrl tool') and one known at its path (`ls` of coreutils).
 */
export function firstBatchRows(): KnownHashRow[] {
  return [
    { digest: sha('dropper'), bad: true, label: 'dropper' },
    { digest: sha('nsrl tool') },
    { digest: sha('ls'), path: Buffer.from('/usr/bin/ls'), package: { name: 'coreutils', version: '9.1-1', arch: 'amd64' } },
  ];
}

/**
 * Asserts that `reader` knows what {@link firstBatchRows} committed while the import has not ended: the hash-only
 * digest elsewhere, `ls` at its path, and the same through `lookupMany` (bad, known at its path, unknown).
 */
export async function assertFirstBatchKnown(reader: Pick<KnownHashStore, 'lookup' | 'lookupMany'>): Promise<void> {
  const tool = await reader.lookup(Buffer.from('/opt/tool'), hex('nsrl tool'));
  assert.equal(tool.elsewhere.length, 1, 'a hash-only known digest of a committed batch is known');
  const ls = await reader.lookup(Buffer.from('/usr/bin/ls'), hex('ls'));
  assert.equal(ls.atPath[0]?.package?.name, 'coreutils', 'a digest known at its path is known there');
  const [bad, good, unknown] = await reader.lookupMany([
    { path: Buffer.from('/tmp/x'), hashes: hex('dropper') },
    { path: Buffer.from('/usr/bin/ls'), hashes: hex('ls') },
    { path: Buffer.from('/tmp/y'), hashes: hex('never imported') },
  ]);
  assert.equal(bad?.bad.length, 1);
  assert.equal(good?.atPath.length, 1);
  assert.deepEqual([unknown?.atPath, unknown?.elsewhere, unknown?.bad], [[], [], []]);
}

/** An importing process of an import-window test: the child, its exit, and the moment its first batch is in. */
export interface Importer {
  readonly child: ChildProcessByStdio<null, Readable, null>;
  readonly exited: Promise<unknown[]>;
  /** Resolves when the child prints "committed"; rejects if it exits before. */
  readonly committed: Promise<void>;
}

/**
 * Runs `script` (an ES module's text, in this process's Node with its flags) in a process of its own that imports
 * and prints "committed" once a batch is in; the caller kills it (SIGKILL: no handler runs) and awaits `exited`.
 */
export function startImporter(script: string): Importer {
  const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  const committed = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => (d.includes('committed') ? resolve() : undefined));
    child.on('exit', () => reject(new Error('the importer exited before it committed')));
  });
  // Awaited by the caller after it kills the child too: never an unhandled rejection.
  committed.catch(() => undefined);
  return { child, exited, committed };
}
