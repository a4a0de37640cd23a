import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syscheckFor } from '../../test/support/scan-helpers.js';
import { compileScanScope } from './scan-scope.js';

const p = (s: string): Buffer => Buffer.from(s);

describe('compileScanScope with `/` as a monitored directory', () => {
  it('compiles `/` (or `//`) to the one-byte root, which governs every path without a nearer directory', () => {
    for (const configured of ['/', '//']) {
      const scope = compileScanScope(syscheckFor([configured, '/etc']));
      assert.deepEqual(
        scope.topLevelRoots.map((r) => String(r.path)),
        ['/'],
      );
      assert.equal(String(scope.governing(p('/'))?.path), '/');
      assert.equal(String(scope.governing(p('/opt/x/y'))?.path), '/');
      assert.equal(String(scope.governing(p('/etc/hosts'))?.path), '/etc');
      assert.equal(String(scope.rootAt(p('/'))?.path), '/');
      assert.equal(scope.rootAt(p('/opt')), undefined);
    }
  });

  it('monitors `/` itself and what is below it, and applies ignore, restrict and recursion_level below it', () => {
    const scope = compileScanScope(
      syscheckFor([{ path: '/', recursionLevel: 1, restrict: '.conf$' }], {
        ignore: [
          { kind: 'path', source: '/proc' },
          { kind: 'sregex', source: '^/tmp' },
        ],
      }),
    );
    assert.ok(scope.isMonitored(p('/'), 'directory'));
    assert.ok(scope.shouldDescend(p('/')), 'the root is listed');
    assert.ok(scope.isMonitored(p('/opt'), 'directory'));
    assert.ok(scope.shouldDescend(p('/opt')), 'depth 1 <= recursion_level 1');
    assert.ok(scope.isMonitored(p('/opt/a.conf'), 'file'));
    assert.ok(!scope.isMonitored(p('/opt/a.txt'), 'file'), 'restrict');
    assert.ok(!scope.shouldDescend(p('/opt/sub')), 'depth 2 > recursion_level 1');
    assert.ok(!scope.isMonitored(p('/opt/sub/b.conf'), 'file'), 'too deep');
    assert.ok(!scope.isMonitored(p('/proc'), 'directory') && !scope.shouldDescend(p('/proc')), 'path ignore');
    assert.ok(!scope.isMonitored(p('/tmp'), 'directory') && !scope.shouldDescend(p('/tmp')), 'sregex ignore');
  });

  it('recursion_level 0 on `/` lists the top-level entries only', () => {
    const scope = compileScanScope(syscheckFor([{ path: '/', recursionLevel: 0 }]));
    assert.ok(scope.shouldDescend(p('/')));
    assert.ok(scope.isMonitored(p('/etc'), 'directory'));
    assert.ok(!scope.shouldDescend(p('/etc')));
    assert.ok(!scope.isMonitored(p('/etc/hosts'), 'file'));
  });

  it('narrows to `/` given on the command line, with the options of the configured `/`', () => {
    const configured = syscheckFor([{ path: '/', recursionLevel: 3 }], { ignore: [{ kind: 'path', source: '/usr' }] });
    const scope = compileScanScope(configured, ['/']);
    assert.deepEqual(
      scope.topLevelRoots.map((r) => String(r.path)),
      ['/'],
    );
    assert.equal(scope.topLevelRoots[0]?.directory.recursionLevel, 3);
    assert.ok(scope.isMonitored(p('/etc/hosts'), 'file'));
    assert.ok(!scope.isMonitored(p('/usr/bin/ls'), 'file'));
  });

  it('scans an unconfigured `/` given on the command line with default options', () => {
    const scope = compileScanScope(syscheckFor(['/etc']), ['/']);
    assert.deepEqual(
      scope.topLevelRoots.map((r) => String(r.path)),
      ['/'],
    );
    assert.ok(scope.isMonitored(p('/opt/x'), 'file'));
    assert.equal(String(scope.governing(p('/etc/hosts'))?.path), '/etc', 'a configured directory below keeps its own options');
  });

  it('an ignore entry of `/` ignores everything', () => {
    const scope = compileScanScope(syscheckFor(['/etc'], { ignore: [{ kind: 'path', source: '/' }] }));
    assert.ok(!scope.isMonitored(p('/etc/hosts'), 'file'));
  });
});
