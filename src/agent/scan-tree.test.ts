import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scanAll, statesAfter, syscheckFor } from '../../test/support/scan-helpers.js';
import { bytesPath, tempDir } from '../../test/support/temp-dir.js';

describe('scanTree', () => {
  it('hashes every file on the first scan, then reuses digests of unchanged files (fast path)', async () => {
    const dir = tempDir();
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `f${i}`), `content ${i}`);
    const s = syscheckFor([dir]);
    const first = await scanAll(s, []);
    assert.equal(first.stats.hashed, 20);
    assert.equal(first.stats.reused, 0);
    const second = await scanAll(s, statesAfter(first.observations));
    assert.equal(second.stats.hashed, 0, 'no file is read again when its stat data is unchanged');
    assert.equal(second.stats.reused, 20);
    assert.deepEqual(second.observations, [], 'an unchanged tree yields nothing');
  });

  it('rehashes everything with rehash, and a changed file even without it', async () => {
    const dir = tempDir();
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `f${i}`), `content ${i}`);
    const s = syscheckFor([dir]);
    const baseline = statesAfter((await scanAll(s, [])).observations);
    const rehash = await scanAll(s, baseline, { rehash: true });
    assert.equal(rehash.stats.hashed, 5);
    assert.equal(rehash.stats.reused, 0);
    writeFileSync(join(dir, 'f0'), 'new content');
    const after = await scanAll(s, baseline);
    assert.equal(after.stats.hashed, 1);
    assert.equal(after.observations.filter((o) => o.current?.type === 'file').length, 1);
    const f0 = after.observations.find((o) => o.current?.path.toString().endsWith('/f0'));
    assert.equal(f0?.current?.hashes.sha256, execFileSync('sha256sum', [join(dir, 'f0')], { encoding: 'utf8' }).split(' ')[0]);
  });

  it('reads again a file rewritten with the same size and mtime (its ctime moved), and one whose baseline lacks an owner name', async () => {
    const dir = tempDir();
    for (let i = 0; i < 1500; i++) writeFileSync(join(dir, `f${String(i).padStart(4, '0')}`), `content ${i % 10}`);
    const s = syscheckFor([dir]);
    const baseline = statesAfter((await scanAll(s, [])).observations);
    const same = join(dir, 'f0700');
    const { mtime, size } = statSync(same);
    writeFileSync(same, 'content X');
    utimesSync(same, mtime, mtime);
    assert.equal(statSync(same).size, size);
    // A baseline state whose owner name differs (a renamed user): its fingerprint no longer matches.
    const renamed = baseline.map((state) => (state.path.toString().endsWith('/f1200') ? { ...state, uname: 'someone-else' } : state));
    const after = await scanAll(s, renamed);
    assert.equal(after.stats.hashed, 2);
    assert.equal(after.stats.reused, 1498);
    const changed = after.observations.filter((o) => o.current?.type === 'file').map((o) => o.path.toString().slice(dir.length));
    assert.deepEqual(changed.sort(), ['/f0700', '/f1200']);
    const f0700 = after.observations.find((o) => o.path.toString().endsWith('/f0700'));
    assert.equal(f0700?.current?.hashes.sha256, execFileSync('sha256sum', [same], { encoding: 'utf8' }).split(' ')[0]);
  });

  it('finds deletions on every scan by merging the walk with the baseline', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub/gone'), 'x');
    writeFileSync(join(dir, 'stays'), 'y');
    const s = syscheckFor([dir]);
    const baseline = statesAfter((await scanAll(s, [])).observations);
    rmSync(join(dir, 'sub'), { recursive: true });
    const { observations } = await scanAll(s, baseline);
    const missing = observations.filter((o) => o.current === undefined).map((o) => o.path.toString().slice(dir.length));
    assert.deepEqual(missing.sort(), ['/sub', '/sub/gone']);
  });

  it('keeps (never deletes) baseline entries that are out of scope or unreadable now', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'a');
    writeFileSync(join(dir, 'b.log'), 'b');
    const baseline = statesAfter((await scanAll(syscheckFor([dir]), [])).observations);
    const narrowed = syscheckFor([dir], { ignore: [{ kind: 'sregex', source: '.log$' }] });
    const { observations, stats } = await scanAll(narrowed, baseline);
    assert.equal(observations.filter((o) => o.current === undefined).length, 0);
    assert.equal(stats.kept, 1);
  });

  it('scans hostile names and a 4000-byte path exactly', async () => {
    const dir = tempDir();
    const bad = bytesPath(dir, '/bad', Buffer.from([0xff, 0xfe]), '.txt');
    const nl = bytesPath(dir, '/new\nline');
    writeFileSync(bad, 'bad');
    writeFileSync(nl, 'newline');
    let deep = dir;
    while (deep.length < 3800) {
      deep = join(deep, 'x'.repeat(200));
      mkdirSync(deep);
    }
    const long = join(deep, 'y'.repeat(4000 - deep.length - 1));
    assert.equal(Buffer.byteLength(long), 4000);
    writeFileSync(long, 'long');
    const { observations } = await scanAll(syscheckFor([dir]), []);
    const byPath = new Map(observations.map((o) => [o.current?.path.toString('latin1'), o.current]));
    for (const [path, content] of [
      [bad, 'bad'],
      [nl, 'newline'],
      [Buffer.from(long), 'long'],
    ] as const) {
      const state = byPath.get(path.toString('latin1'));
      assert.ok(state !== undefined, `scanned ${JSON.stringify(path.toString('latin1').slice(-30))}`);
      assert.equal(state.size, content.length);
      assert.equal(state.issues.length, 0);
      assert.ok(state.path.equals(path));
    }
  });
});
