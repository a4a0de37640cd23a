import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { expectedChoice, parseAlternativesGroup, readAlternatives } from './dpkg-alternatives.js';

describe('dpkg alternatives database', () => {
  it('reads every group of this machine as update-alternatives --query reports it', () => {
    const { groups, malformed } = readAlternatives('/');
    assert.deepEqual(malformed, []);
    assert.ok(groups.length > 0);
    for (const group of groups) {
      const query = execFileSync('update-alternatives', ['--query', group.name], { encoding: 'latin1' });
      const field = (name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'm').exec(query)?.[1];
      assert.equal(group.mode, field('Status'), group.name);
      assert.equal(group.link, field('Link'), group.name);
      const alternatives = [...query.matchAll(/^Alternative: (.*)\nPriority: (-?\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
      // --query leaves out alternatives whose file is missing (and so does the choice in auto mode).
      assert.deepEqual(
        group.choices.filter((c) => existsSync(c.path)).map((c) => [c.path, c.priority]),
        alternatives,
        group.name,
      );
      if (group.mode === 'auto' && alternatives.length > 0)
        assert.equal(expectedChoice(group, field('Value'), existsSync)?.path, field('Value'), `${group.name}: auto mode selects the best`);
    }
  });

  it('in auto mode only the highest priority is right; in manual mode any registered one', () => {
    const text = [
      'auto',
      '/usr/bin/editor',
      'editor.1.gz',
      '/usr/share/man/man1/editor.1.gz',
      '',
      '/bin/ed',
      '-100',
      '/usr/share/man/man1/ed.1.gz',
      '/bin/nano',
      '40',
      '',
      '/usr/bin/vim.basic',
      '30',
      '/usr/share/man/man1/vim.1.gz',
      '',
      '',
    ].join('\n');
    const auto = parseAlternativesGroup('editor', text);
    assert.deepEqual(auto.slaves, [{ name: 'editor.1.gz', link: '/usr/share/man/man1/editor.1.gz' }]);
    assert.deepEqual(
      auto.choices.map((c) => c.slaveValues),
      [['/usr/share/man/man1/ed.1.gz'], [''], ['/usr/share/man/man1/vim.1.gz']],
    );
    assert.equal(expectedChoice(auto, '/bin/nano')?.path, '/bin/nano');
    assert.equal(expectedChoice(auto, '/bin/ed'), undefined, 'a lower priority in auto mode: someone set it by hand');
    assert.equal(expectedChoice(auto, '/tmp/evil'), undefined);
    assert.equal(expectedChoice(auto, '/usr/bin/vim.basic', (path) => path !== '/bin/nano')?.path, '/usr/bin/vim.basic', 'the best that exists');
    const manual = parseAlternativesGroup('editor', text.replace(/^auto/, 'manual'));
    assert.equal(expectedChoice(manual, '/bin/ed')?.path, '/bin/ed');
    assert.equal(expectedChoice(manual, '/tmp/evil'), undefined, 'never an unregistered path');
  });

  it("refuses a file that is not in dpkg's format", () => {
    assert.throws(() => parseAlternativesGroup('x', 'sometimes\n/usr/bin/x\n\n'), /unknown mode/);
    assert.throws(() => parseAlternativesGroup('x', 'auto\n/usr/bin/x\n\n/bin/x\nhigh\n\n'), /bad priority/);
    assert.throws(() => parseAlternativesGroup('x', 'auto\n/usr/bin/x\nslave'), /truncated/);
  });
});
