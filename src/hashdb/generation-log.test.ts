import assert from 'node:assert/strict';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { GenerationLog, GenerationLogCorrupt } from './generation-log.js';

const payload = (s: string): Buffer => Buffer.from(s.repeat(10));

describe('GenerationLog', () => {
  const dir = tempDir();

  it('appends blocks that a reader gets back in order, and finds its end from the last block alone', () => {
    const log = new GenerationLog(join(dir, 'a.log'), 'TEST');
    assert.equal(log.read(), undefined, 'no log yet');
    log.reset(5);
    const before = statSync(log.file).size;
    const bytes = log.append(6, payload('six'));
    assert.equal(statSync(log.file).size, before + bytes, 'an append writes its own block only');
    log.append(7, payload('seven'));
    const contents = log.read();
    assert.deepEqual(
      contents?.blocks.map((b) => [b.generation, b.payload.toString()]),
      [
        [6, 'six'.repeat(10)],
        [7, 'seven'.repeat(10)],
      ],
    );
    assert.equal(contents?.generation, 7);
    assert.equal(contents?.torn, false);
    assert.deepEqual(log.tail(), { baseGeneration: 5, generation: 7, bytes: statSync(log.file).size });
    assert.ok(log.reaches(6) && log.reaches(5) && !log.reaches(4) && !log.reaches(8));
  });

  it('a torn last block is not read and not counted; the log ends before it', () => {
    const log = new GenerationLog(join(dir, 'torn.log'), 'TEST');
    log.reset(0);
    log.append(1, payload('one'));
    const whole = statSync(log.file).size;
    log.append(2, payload('two'));
    truncateSync(log.file, statSync(log.file).size - 5);
    const contents = log.read();
    assert.equal(contents?.generation, 1, 'the chain ends at the last complete block');
    assert.equal(contents?.torn, true);
    assert.throws(() => log.tail(), GenerationLogCorrupt, 'nothing is appended after a torn block');
    truncateSync(log.file, whole + 10);
    assert.equal(log.read()?.generation, 1);
  });

  it('a garbled block is never believed: reading throws', () => {
    const log = new GenerationLog(join(dir, 'garbled.log'), 'TEST');
    log.reset(0);
    log.append(1, payload('one'));
    log.append(2, payload('two'));
    const bytes = readFileSync(log.file);
    const at = bytes.indexOf('one');
    bytes[at] = (bytes[at] as number) ^ 1; // a digest byte of the first block
    writeFileSync(log.file, bytes);
    assert.throws(() => log.read(), GenerationLogCorrupt);
    const header = readFileSync(log.file);
    header[9] = (header[9] as number) ^ 1; // the base generation
    writeFileSync(log.file, header);
    assert.throws(() => log.read(), GenerationLogCorrupt);
    assert.throws(() => new GenerationLog(log.file, 'ELSE').read(), GenerationLogCorrupt, 'another kind of log');
  });

  it('a gap ends the chain, and a block the chain already passed is kept but moves nothing', () => {
    const log = new GenerationLog(join(dir, 'gap.log'), 'TEST');
    log.reset(3);
    log.append(3, payload('again')); // what the base already holds (appended by an import that raced a rebuild)
    log.append(4, payload('four'));
    log.append(6, payload('six')); // 5 was never logged
    log.append(7, payload('seven'));
    const contents = log.read();
    assert.equal(contents?.generation, 4);
    assert.deepEqual(
      contents?.blocks.map((b) => b.generation),
      [3, 4],
    );
    assert.ok(!log.reaches(6));
  });

  it('rebase keeps the blocks past a new base when the chain reaches it, and starts afresh when it does not', () => {
    const log = new GenerationLog(join(dir, 'rebase.log'), 'TEST');
    log.reset(0);
    for (let g = 1; g <= 4; g++) log.append(g, payload(`g${g}`));
    assert.equal(log.rebase(2), true);
    assert.deepEqual(
      log.read()?.blocks.map((b) => [b.generation, b.payload.toString()]),
      [
        [3, 'g3'.repeat(10)],
        [4, 'g4'.repeat(10)],
      ],
    );
    assert.equal(log.read()?.baseGeneration, 2);
    assert.equal(log.rebase(9), false, 'the chain ends at 4: a base of 9 starts an empty log');
    assert.deepEqual(log.read()?.blocks, []);
    assert.equal(log.read()?.generation, 9);
  });
});
