import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { mkfifoSync } from '../support/mkfifo.js';
import { CUSTOS_BIN } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/** What a run of the CLI did, with the most memory it was seen holding (VmHWM, sampled until it exits). */
interface MeasuredRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly peakMb: number;
}

/** Runs the real CLI, killing it after `timeoutMs` (a hang then shows as a null exit code, not a stuck test). */
function runMeasured(args: readonly string[], timeoutMs = 60_000): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CUSTOS_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    let peakKb = 0;
    const sample = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        peakKb = Math.max(peakKb, Number(hwm?.[1] ?? 0));
      } catch {
        // gone between two samples
      }
    }, 20);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), peakMb: peakKb / 1024 });
    });
  });
}

/** A tar whose entries are given (name, and content or a size of zeros), written to `file` through `compress`. */
async function writeTar(
  file: string,
  entries: readonly { name: string; content?: string; zeros?: number }[],
  compress: 'gzip' | 'zstd' | 'bzip2',
): Promise<void> {
  const tar = pack();
  const done = (async () => {
    for (const e of entries) {
      if (e.zeros === undefined) {
        tar.entry({ name: e.name }, e.content ?? '');
        continue;
      }
      const stream = tar.entry({ name: e.name, size: e.zeros });
      const block = Buffer.alloc(1 << 20);
      for (let left = e.zeros; left > 0; left -= block.length) {
        if (!stream.write(left >= block.length ? block : block.subarray(0, left))) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
      }
      await new Promise<void>((resolve) => stream.end(() => resolve()));
    }
    tar.finalize();
  })();
  if (compress === 'gzip') await pipeline(tar, createGzip({ level: 1 }), createWriteStream(file));
  else {
    const raw = `${file}.raw`;
    await pipeline(tar, createWriteStream(raw));
    if (compress === 'zstd') execFileSync('zstd', ['-q', '-f', '--rm', '-o', file, raw]);
    else {
      execFileSync('bzip2', ['-f', raw]);
      renameSync(`${raw}.bz2`, file);
    }
  }
  await done;
}

/** Assembles a .deb (ar: debian-binary, control.tar.gz, data.tar.*) from the given members. */
function assembleDeb(dir: string, name: string, control: string, data: string): string {
  writeFileSync(join(dir, 'debian-binary'), '2.0\n');
  const deb = join(dir, name);
  execFileSync('ar', ['rcS', deb, join(dir, 'debian-binary'), control, data]);
  return deb;
}

describe('importers under hostile input (issue 11, case 9)', { timeout: 300_000 }, () => {
  const dir = tempDir('custos-import-bombs-');
  const hashdb = join(dir, 'hashdb.sqlite');

  for (const compression of ['zstd', 'bzip2'] as const) {
    it(`a refused .deb with a ${compression} payload ends the import (the decompressor killed and reaped)`, async () => {
      const control = join(dir, 'control.tar.gz');
      await writeTar(control, [{ name: './control', content: 'Package: evil\nVersion: 1\nArchitecture: all\n' }], 'gzip');
      const data = join(dir, `data.tar.${compression === 'zstd' ? 'zst' : 'bz2'}`);
      // An unsafe name first, then far more than a pipe holds: the decompressor is mid-write when the refusal comes.
      await writeTar(
        data,
        [
          { name: '../../etc/cron.d/evil', content: '* * * * * root id\n' },
          { name: './usr/share/big', zeros: 256 << 20 },
        ],
        compression,
      );
      const deb = assembleDeb(dir, `evil-${compression}.deb`, control, data);
      const run = await runMeasured(['hashdb', 'import', 'deb', deb, '--hashdb', hashdb, '--json']);
      assert.notEqual(run.code, null, 'the import hung and was killed');
      const summary = JSON.parse(run.stdout) as { refused: { reason: string }[] };
      assert.match(summary.refused[0]?.reason ?? '', /unsafe path in payload: \.\.\/\.\.\/etc\/cron\.d\/evil/);
    });
  }

  it('a control member that inflates far past its size is refused with bounded memory', async () => {
    // ar member names are short: each member gets its own directory.
    mkdirSync(join(dir, 'bomb'));
    const control = join(dir, 'bomb', 'control.tar.gz');
    await writeTar(control, [{ name: './control', zeros: 600 << 20 }], 'gzip');
    const data = join(dir, 'bomb', 'data.tar.gz');
    await writeTar(data, [{ name: './usr/bin/x', content: 'x' }], 'gzip');
    const deb = assembleDeb(dir, 'bomb.deb', control, data);
    const run = await runMeasured(['hashdb', 'import', 'deb', deb, '--hashdb', hashdb, '--json']);
    assert.notEqual(run.code, null, run.stderr);
    const summary = JSON.parse(run.stdout) as { refused: { reason: string }[] };
    assert.match(summary.refused[0]?.reason ?? '', /control file control is larger than 1 MB/);
    assert.ok(run.peakMb < 300, `peak memory ${run.peakMb.toFixed(0)} MB for a 600 MB control file`);
  });

  it('a manifest or hash list without newlines is refused on its first line, not read in quadratic time', async () => {
    const flat = join(dir, 'flat.txt');
    writeFileSync(flat, Buffer.alloc(40 << 20, 'a'));
    for (const args of [
      ['manifest', flat, '--base', '/srv'],
      ['hashes', flat],
    ]) {
      const run = await runMeasured(['hashdb', 'import', ...args, '--hashdb', hashdb], 90_000);
      assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
      assert.match(run.stderr, /line 1 is longer than 16 MB: not a list of hashes or paths/);
      assert.ok(run.peakMb < 300, `peak memory ${run.peakMb.toFixed(0)} MB`);
    }
  });

  it('a FIFO given as an NSRL database, a hash list or a .deb is refused, not waited on', async () => {
    const fifo = join(dir, 'fifo');
    mkfifoSync(fifo);
    for (const args of [
      ['nsrl', fifo],
      ['hashes', fifo],
      ['manifest', fifo, '--base', '/srv'],
      ['md5db', fifo],
    ]) {
      const run = await runMeasured(['hashdb', 'import', ...args, '--hashdb', hashdb], 30_000);
      assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
      assert.match(run.stderr, /not a regular file \(a FIFO, device or directory\); refusing to read it/);
    }
    const deb = await runMeasured(['hashdb', 'import', 'deb', fifo, '--hashdb', hashdb, '--json'], 30_000);
    assert.notEqual(deb.code, null);
    assert.match(deb.stdout, /not a regular file/);
  });
});
