import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { buildDeb, dpkgInstall, makeDpkgRoot } from '../support/debian-packages.js';
import { CUSTOS_BIN, jsonLines } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/** Runs the real CLI in a UTS namespace of its own, whose hostname is `host`: a host renamed, for real. */
function custosAs(host: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('unshare', ['--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', host, process.execPath, CUSTOS_BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TZ: 'UTC' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('host-scoped known hashes follow the machine id, not the hostname', () => {
  const dir = tempDir();
  const root = join(dir, 'root');
  const hashdb = join(dir, 'hashdb.sqlite');
  const args = ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db'), '--hashdb', hashdb, '--root', root];
  const debs: Record<string, string> = {};
  const check = (host: string): { code: number | null; alerts: Alert[]; stderr: string } => {
    const r = custosAs(host, ['check', '--json', ...args]);
    return { code: r.code, alerts: jsonLines<Alert>(r.stdout), stderr: r.stderr };
  };
  const importDpkg = (host: string): void => {
    const r = custosAs(host, ['hashdb', 'import', 'dpkg', '--root', root, '--hashdb', hashdb, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
  };

  before(() => {
    for (const v of ['1.0', '2.0', '3.0']) {
      debs[v] = buildDeb(dir, { name: 'custos-host-demo', version: v, files: [{ path: 'usr/bin/host-demo', content: `#!/bin/sh\necho ${v}\n`, mode: 0o755 }] });
    }
    makeDpkgRoot(root);
    spawnSync('mkdir', ['-p', join(root, 'etc')]);
    writeFileSync(join(root, 'etc/machine-id'), '0123456789abcdef0123456789abcdef\n');
    dpkgInstall(root, debs['1.0'] as string);
    writeFileSync(join(dir, 'custos.yml'), 'syscheck:\n  directories:\n    - path: /usr\n');
  });

  it('an update imported before the host was renamed is still explained after', () => {
    importDpkg('alpha');
    assert.equal(check('alpha').code, 0);
    dpkgInstall(root, debs['2.0'] as string);
    importDpkg('alpha');
    const r = check('beta');
    assert.equal(r.code, 0, `${r.stderr}\n${JSON.stringify(r.alerts.map((a) => [String(a.rule.id), a.syscheck.path, a.known_hash.verdict]))}`);
    const events = jsonLines<{ outcome: string; known_hash: { verdict: string; version?: string }; syscheck: { path: string } }>(
      custosAs('beta', ['events', '--json', ...args.slice(0, 4)]).stdout,
    );
    const upgraded = events.filter((e) => e.syscheck.path === '/usr/bin/host-demo').at(-1);
    assert.deepEqual([upgraded?.outcome, upgraded?.known_hash.verdict, upgraded?.known_hash.version], ['recorded', 'known-good', '2.0']);
  });

  it("another machine's package database explains nothing here, whatever its hostname", () => {
    dpkgInstall(root, debs['3.0'] as string);
    importDpkg('beta');
    // The same hostname, another machine: the rows imported above are that other machine's.
    writeFileSync(join(root, 'etc/machine-id'), 'fedcba9876543210fedcba9876543210\n');
    const r = check('beta');
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      r.alerts.filter((a) => a.syscheck.path === '/usr/bin/host-demo').map((a) => [String(a.rule.id), a.known_hash.verdict]),
      [['550', 'unknown']],
    );
  });
});
