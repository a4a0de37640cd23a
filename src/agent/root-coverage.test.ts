import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ignoresAround, optTempDir } from '../../test/support/root-scope.js';
import { scanAll, statesAfter, syscheckFor } from '../../test/support/scan-helpers.js';
import { tempDir } from '../../test/support/temp-dir.js';

/** The directories a real scan (walk thread, hash pool) reports it found nothing to scan in, as `path: reason`. */
async function unscannable(...args: Parameters<typeof scanAll>): Promise<string[]> {
  const { stats } = await scanAll(args[0], args[1], { ...args[2], checkRoots: true });
  return stats.unscannableRoots.map((r) => `${String(r.path)}: ${r.reason}`);
}

describe('scans note the monitored directories they find nothing to scan in', () => {
  it('a directory that does not exist, and still reports what the baseline held there as deleted', async () => {
    const dir = tempDir();
    const gone = join(dir, 'www');
    mkdirSync(gone);
    writeFileSync(join(gone, 'index.php'), '<?php');
    const s = syscheckFor([gone]);
    const baseline = statesAfter((await scanAll(s, [])).observations);
    rmSync(gone, { recursive: true });
    const after = await scanAll(s, baseline, { checkRoots: true });
    assert.deepEqual(
      after.stats.unscannableRoots.map((r) => [String(r.path), r.reason]),
      [[gone, 'it does not exist']],
    );
    assert.deepEqual(
      after.observations.map((o) => [String(o.path), o.current === undefined]),
      [
        [gone, true],
        [join(gone, 'index.php'), true],
      ],
    );
    assert.deepEqual(await unscannable(s, []), [`${gone}: it does not exist`], 'again on the next run');
  });

  it('nothing for an empty directory, a single file, or a tree with files', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'empty'));
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full/f'), 'f');
    writeFileSync(join(dir, 'file'), 'x');
    assert.deepEqual(await unscannable(syscheckFor([join(dir, 'empty'), join(dir, 'full'), join(dir, 'file')]), []), []);
  });

  it('a directory its own ignore entry excludes whole', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'f');
    const s = syscheckFor([dir], { ignore: [{ kind: 'path', source: dir }] });
    assert.deepEqual(await unscannable(s, []), [`${dir}: nothing in it is monitored: an ignore entry, restrict or recursion_level excludes it all`]);
  });

  it('a configured directory below another one, missing, though its parent was scanned', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'f');
    assert.deepEqual(await unscannable(syscheckFor([dir, join(dir, 'uploads')]), []), [`${join(dir, 'uploads')}: it does not exist`]);
  });

  it('a directory on a skipped file system (/proc)', async () => {
    assert.deepEqual(await unscannable(syscheckFor(['/proc']), []), ['/proc: skipped proc file system']);
  });

  it('not `/` itself, scanned with ignores for everything but one tree', async () => {
    const kept = optTempDir();
    writeFileSync(join(kept, 'f'), 'f');
    const ignore = ignoresAround(kept).map((source) => ({ kind: 'path' as const, source }));
    const { stats, observations } = await scanAll(syscheckFor(['/'], { ignore }), [], { checkRoots: true });
    assert.deepEqual(stats.unscannableRoots, []);
    assert.deepEqual(
      observations.map((o) => String(o.path)),
      ['/', '/opt', kept, join(kept, 'f')],
    );
  });
});
