import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  depthBelow,
  displayPath,
  hostPathOf,
  isExactDisplay,
  isWithin,
  joinPath,
  pathFromKey,
  pathKey,
  subtreeKeyRange,
  trimTrailingSlash,
} from './path-bytes.js';

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

describe('path helpers with the root `/`', () => {
  const root = Buffer.from('/');
  it('keeps `/` (and `//`) as the one-byte root when trimming, and other paths without their trailing slashes', () => {
    assert.equal(String(trimTrailingSlash(root)), '/');
    assert.equal(String(trimTrailingSlash(Buffer.from('//'))), '/');
    assert.equal(String(trimTrailingSlash(Buffer.from('/etc//'))), '/etc');
    assert.equal(trimTrailingSlash(Buffer.alloc(0)).length, 0);
  });
  it('keys `/` as a lone NUL that sorts before every other path', () => {
    assert.deepEqual(pathKey(root), Buffer.of(0));
    assert.deepEqual(pathFromKey(pathKey(root)), root);
    const keys = ['/a', '/', '/a/b', '/\x01'].map((p) => pathKey(Buffer.from(p, 'latin1'))).sort((a, b) => Buffer.compare(a, b));
    assert.deepEqual(keys[0], Buffer.of(0));
  });
  it('gives `/` a subtree range holding every path, and the root itself', () => {
    for (const r of [root, Buffer.from('//')]) {
      const range = subtreeKeyRange(r);
      const all = ['/', '/a', '/etc/hosts', '/\x01', '/\xff/\xff', '/zzz/y'].map((p) => pathKey(Buffer.from(p, 'latin1')));
      for (const k of all) assert.ok(Buffer.compare(k, range.from) >= 0 && Buffer.compare(k, range.to) < 0, `${k.toString('hex')} in the range of /`);
    }
  });
  it('gives a one-byte top-level directory (`/a`) a range that holds its subtree, not its siblings', () => {
    const range = subtreeKeyRange(Buffer.from('/a'));
    for (const p of ['/a', '/a/b', '/a/\xff'])
      assert.ok(Buffer.compare(pathKey(Buffer.from(p, 'latin1')), range.from) >= 0 && Buffer.compare(pathKey(Buffer.from(p, 'latin1')), range.to) < 0, p);
    for (const p of ['/', '/ab', '/a-', '/b', '/\x01']) {
      const k = pathKey(Buffer.from(p, 'latin1'));
      assert.ok(Buffer.compare(k, range.from) < 0 || Buffer.compare(k, range.to) >= 0, p);
    }
  });
  it('puts every absolute path, and `/` itself, within `/`; nothing within the empty path', () => {
    for (const p of ['/', '/x', '/etc/hosts', '//x']) assert.ok(isWithin(Buffer.from(p), root), p);
    assert.ok(isWithin(Buffer.from('/x'), Buffer.from('//')));
    assert.ok(!isWithin(Buffer.from('/'), Buffer.from('/x')));
    assert.ok(!isWithin(Buffer.from('/'), Buffer.from('/etc')));
    assert.ok(!isWithin(Buffer.from('/x'), Buffer.alloc(0)), 'an empty root (a stale record) holds nothing');
  });
  it('measures depth below `/` from 0 for the root itself', () => {
    assert.equal(depthBelow(root, root), 0);
    assert.equal(depthBelow(Buffer.from('/etc'), root), 1);
    assert.equal(depthBelow(Buffer.from('/etc/ssh/sshd_config'), root), 3);
    assert.equal(depthBelow(Buffer.from('/etc/'), Buffer.from('/etc')), 0);
  });
  it('joins names onto `/` without a double slash', () => {
    assert.equal(String(joinPath(root, Buffer.from('opt'))), '/opt');
    assert.equal(String(pathFromKey(Buffer.concat([pathKey(root), Buffer.from('opt')]))), '/opt');
  });
  it('maps `/` to the --root directory itself, and other paths below it', () => {
    const mnt = Buffer.from('/mnt/image');
    assert.equal(String(hostPathOf(root, mnt)), '/mnt/image');
    assert.equal(String(hostPathOf(Buffer.from('/etc/hosts'), mnt)), '/mnt/image/etc/hosts');
    assert.equal(String(hostPathOf(root, undefined)), '/');
  });
});
