import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultDirectory } from '../config/default-directory.js';
import { DEFAULT_DIFF_CONFIG, type SyscheckConfig } from '../config/custos-config.js';
import { MAX_CONTENT_BYTES } from './content-capture.js';
import { compileContentPolicy } from './content-policy.js';

function syscheck(extra: Partial<SyscheckConfig> = {}): SyscheckConfig {
  return {
    disabled: false,
    directories: [
      { ...defaultDirectory('/etc'), reportChanges: true },
      { ...defaultDirectory('/etc/big'), reportChanges: true, diffSizeLimitBytes: 10 },
      defaultDirectory('/usr/bin'),
    ],
    ignore: [],
    nodiff: [
      { kind: 'path', source: '/etc/app/secret.conf' },
      { kind: 'sregex', source: '.token$' },
    ],
    frequencyMs: 0,
    scanOnStart: true,
    alertNewFiles: true,
    autoIgnore: { enabled: false, frequency: 3, timeframeMs: 1 },
    maxFileSizeBytes: 1 << 30,
    skip: { nfs: true, dev: true, proc: true, sys: true },
    ...extra,
  };
}

describe('compileContentPolicy', () => {
  const policy = compileContentPolicy(syscheck());
  const decide = (p: string): unknown => policy.decide(Buffer.from(p));
  const cases: [string, unknown][] = [
    ['/etc/hosts', { report: true, nodiff: false, sizeLimitBytes: DEFAULT_DIFF_CONFIG.fileSizeLimitBytes }],
    ['/etc/big/file', { report: true, nodiff: false, sizeLimitBytes: 10 }],
    ['/usr/bin/ls', { report: false }],
    ['/var/other', { report: false }],
    ['/etc/app/secret.conf', { report: true, nodiff: true, pattern: '/etc/app/secret.conf' }],
    ['/etc/app/API.TOKEN', { report: true, nodiff: true, pattern: '.token$' }],
    ['/etc/shadow', { report: true, nodiff: true, pattern: '/etc/shadow' }],
    ['/etc/shadow.bak', { report: true, nodiff: false, sizeLimitBytes: DEFAULT_DIFF_CONFIG.fileSizeLimitBytes }],
    ['/etc/ssh/ssh_host_ed25519_key', { report: true, nodiff: true, pattern: '^/etc/ssh/ssh_host_' }],
    ['/etc/ssl/private/site.pem', { report: true, nodiff: true, pattern: '/etc/ssl/private' }],
    ['/etc/nginx/site.key', { report: true, nodiff: true, pattern: '.key$|.pem$|.p12$|.pfx$|.jks$|.keystore$|.kdbx$' }],
  ];
  for (const [path, expected] of cases) {
    it(`${path}`, () => assert.deepEqual(decide(path), expected));
  }

  it('drops the built-in list when builtin_nodiff is off', () => {
    const off = compileContentPolicy(syscheck({ diff: { ...DEFAULT_DIFF_CONFIG, builtinNodiff: false } }));
    assert.deepEqual(off.decide(Buffer.from('/etc/shadow')), { report: true, nodiff: false, sizeLimitBytes: DEFAULT_DIFF_CONFIG.fileSizeLimitBytes });
  });

  it('never lets a lifted limit read more than MAX_CONTENT_BYTES', () => {
    const lifted = compileContentPolicy(
      syscheck({
        directories: [
          { ...defaultDirectory('/etc'), reportChanges: true },
          { ...defaultDirectory('/srv'), reportChanges: true, diffSizeLimitBytes: 8 * 2 ** 30 },
        ],
        diff: { ...DEFAULT_DIFF_CONFIG, fileSizeLimitBytes: Number.MAX_SAFE_INTEGER },
      }),
    );
    for (const path of ['/etc/hosts', '/srv/huge.log'])
      assert.deepEqual(lifted.decide(Buffer.from(path)), { report: true, nodiff: false, sizeLimitBytes: MAX_CONTENT_BYTES });
  });
});
