import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { depthBelow, displayPath, isExactDisplay, isWithin, joinPath, pathFromKey, pathKey, subtreeKeyRange } from './path-bytes.js';

describe('displayPath', () => {
  const cases: [string, Buffer, string, boolean][] = [
    ['plain ASCII', Buffer.from('/etc/hosts'), '/etc/hosts', true],
    ['valid UTF-8', Buffer.from('/srv/café/naïve'), '/srv/café/naïve', true],
    ['invalid UTF-8 bytes', Buffer.concat([Buffer.from('/tmp/bad'), Buffer.from([0xff, 0xfe]), Buffer.from('.txt')]), '/tmp/bad\\xff\\xfe.txt', false],
    ['newline', Buffer.from('/tmp/new\nline'), '/tmp/new\\nline', false],
    ['tab and carriage return', Buffer.from('/tmp/a\tb\rc'), '/tmp/a\\tb\\rc', false],
    ['backslash', Buffer.from('/tmp/a\\b'), '/tmp/a\\\\b', false],
    ['truncated multibyte sequence', Buffer.concat([Buffer.from('/x'), Buffer.from([0xc3])]), '/x\\xc3', false],
    ['UTF-8 next to invalid bytes', Buffer.concat([Buffer.from('/é'), Buffer.from([0x80]), Buffer.from('ü')]), '/é\\x80ü', false],
  ];
  for (const [name, bytes, shown, exact] of cases) {
    it(`renders ${name}`, () => {
      assert.equal(displayPath(bytes), shown);
      assert.equal(isExactDisplay(bytes), exact);
    });
  }
  it('never produces a line break', () => {
    const all = Buffer.from(Array.from({ length: 255 }, (_, i) => i + 1));
    assert.doesNotMatch(displayPath(all), /[\n\r]/);
  });
});

describe('pathKey', () => {
  it('orders paths depth-first with siblings sorted by name bytes', () => {
    const walkOrder = ['/a', '/a/b', '/a/b/c', '/a/b-x', '/a/b.d', '/a/bb', '/a0', '/b'].map((p) => Buffer.from(p));
    const shuffled = [...walkOrder].reverse();
    const sorted = shuffled.sort((x, y) => Buffer.compare(pathKey(x), pathKey(y)));
    assert.deepEqual(sorted.map(String), walkOrder.map(String));
  });
  it('round-trips through pathFromKey, invalid bytes included', () => {
    const path = Buffer.concat([Buffer.from('/x/'), Buffer.from([0xff, 0x0a]), Buffer.from('/y')]);
    assert.deepEqual(pathFromKey(pathKey(path)), path);
  });
  it('gives a subtree range that holds the path and its descendants only', () => {
    const range = subtreeKeyRange(Buffer.from('/etc'));
    const inside = ['/etc', '/etc/a', '/etc/a/b', '/etc/\xff'].map((p) => pathKey(Buffer.from(p, 'latin1')));
    const outside = ['/et', '/etc-x', '/etc.d', '/etcx', '/f'].map((p) => pathKey(Buffer.from(p)));
    for (const k of inside) assert.ok(Buffer.compare(k, range.from) >= 0 && Buffer.compare(k, range.to) < 0);
    for (const k of outside) assert.ok(Buffer.compare(k, range.from) < 0 || Buffer.compare(k, range.to) >= 0);
  });
});

describe('path helpers', () => {
  it('isWithin matches whole components only', () => {
    assert.ok(isWithin(Buffer.from('/etc/mtab'), Buffer.from('/etc/mtab')));
    assert.ok(isWithin(Buffer.from('/etc/mtab/x'), Buffer.from('/etc/mtab')));
    assert.ok(!isWithin(Buffer.from('/etc/mtab.bak'), Buffer.from('/etc/mtab')));
    assert.ok(isWithin(Buffer.from('/anything'), Buffer.from('/')));
  });
  it('joins and measures depth', () => {
    assert.equal(String(joinPath(Buffer.from('/'), Buffer.from('etc'))), '/etc');
    assert.equal(String(joinPath(Buffer.from('/etc'), Buffer.from('ssh'))), '/etc/ssh');
    assert.equal(depthBelow(Buffer.from('/etc/ssh/sshd_config'), Buffer.from('/etc')), 2);
    assert.equal(depthBelow(Buffer.from('/etc'), Buffer.from('/etc')), 0);
  });
});
