import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { buildDeb, dpkgInstall, makeDpkgRoot } from '../support/debian-packages.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

interface EventJson {
  outcome: string;
  known_hash: { verdict: string; package?: string; version?: string };
  syscheck: { path: string; event: string };
}

// Real packages built with dpkg-deb and installed with the real dpkg into a root of their own: known-good means
// the version the root's dpkg status database says is installed.
describe('known-good is the installed version: upgrades, downgrades, versions never imported, diversions', () => {
  const dir = tempDir();
  const root = join(dir, 'root');
  const hashdb = join(dir, 'hashdb.sqlite');
  const args = ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db'), '--hashdb', hashdb, '--root', root];
  const tool = (v: string): string => `#!/bin/sh\necho demo ${v}\n`;
  const debs: Record<string, string> = {};

  before(() => {
    for (const v of ['1.0', '2.0', '3.0']) {
      debs[v] = buildDeb(dir, {
        name: 'custos-demo',
        version: v,
        files: [
          { path: 'usr/bin/demo-tool', content: tool(v), mode: 0o755 },
          { path: 'usr/share/demo/data', content: `data ${v}\n` },
        ],
      });
    }
    debs.wrapper = buildDeb(dir, {
      name: 'custos-wrapper',
      version: '1.0',
      files: [{ path: 'usr/bin/demo-tool', content: '#!/bin/sh\nexec /usr/bin/demo-tool.real "$@"\n', mode: 0o755 }],
    });
    makeDpkgRoot(root);
    dpkgInstall(root, debs['1.0'] as string);
    writeFileSync(join(dir, 'custos.yml'), 'syscheck:\n  directories:\n    - path: /usr\n');
  });

  const check = async (): Promise<{ code: number | null; alerts: Alert[]; stderr: string }> => {
    const r = await runCustos(['check', '--json', ...args]);
    return { code: r.code, alerts: jsonLines<Alert>(r.stdout), stderr: r.stderr };
  };
  const write = (content: string): void => writeFileSync(join(root, 'usr/bin/demo-tool'), content, { mode: 0o755 });
  const summary = (alerts: Alert[]): string[] => alerts.map((a) => `${a.rule.id} ${a.syscheck.path} ${a.known_hash.verdict}`);

  it('imports versions 1.0 and 2.0 (never 3.0) and builds the baseline of the installed 1.0', async () => {
    const imported = await runCustos(['hashdb', 'import', 'deb', debs['1.0'] as string, debs['2.0'] as string, '--hashdb', hashdb]);
    assert.equal(imported.code, 0, imported.stderr);
    const r = await check();
    assert.equal(r.code, 0, r.stderr);
  });

  it('an upgrade by dpkg to an imported version is silent', async () => {
    dpkgInstall(root, debs['2.0'] as string);
    const r = await check();
    assert.deepEqual(summary(r.alerts), [], r.stderr);
    const events = jsonLines<EventJson>((await runCustos(['events', '--json', ...args.slice(0, 4)])).stdout);
    const upgraded = events.filter((e) => e.syscheck.path === '/usr/bin/demo-tool').at(-1);
    assert.deepEqual([upgraded?.outcome, upgraded?.known_hash.verdict, upgraded?.known_hash.version], ['recorded', 'known-good', '2.0']);
  });

  it("the old version's file put back is a downgrade: rule 573, naming both versions", async () => {
    write(tool('1.0'));
    const r = await check();
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(summary(r.alerts), ['573 /usr/bin/demo-tool other-version']);
    const verdict = r.alerts[0]?.known_hash;
    assert.deepEqual(
      { package: verdict?.package, version: verdict?.version, installed: verdict?.installed_version, relation: verdict?.relation },
      { package: 'custos-demo', version: '1.0', installed: '2.0', relation: 'older' },
    );
    assert.equal(r.alerts[0]?.rule.level, 10);
    // The lookup says the same, with the version installed.
    const sha256 = createHash('sha256').update(tool('1.0')).digest('hex');
    const lookup = await runCustos(['hashdb', 'lookup', sha256, '--path', '/usr/bin/demo-tool', '--root', root, '--hashdb', hashdb, '--json']);
    const answer = JSON.parse(lookup.stdout) as { verdict: { verdict: string; relation?: string }; installed: Record<string, string[]> };
    assert.deepEqual([answer.verdict.verdict, answer.verdict.relation, answer.installed], ['other-version', 'older', { 'custos-demo': ['2.0 all'] }]);
  });

  it("the installed version's content back is known-good again; a never-imported version is unexplained", async () => {
    write(tool('2.0'));
    assert.deepEqual(summary((await check()).alerts), []);
    write(tool('3.0'));
    const r = await check();
    assert.deepEqual(summary(r.alerts), ['550 /usr/bin/demo-tool unknown']);
    write(tool('2.0'));
    assert.deepEqual(summary((await check()).alerts), []);
  });

  it("a diversion is honoured: the diverted file is judged where dpkg put it, and only the diverter's file at the original path", async () => {
    execFileSync(
      'dpkg-divert',
      [`--root=${root}`, '--package', 'custos-wrapper', '--rename', '--divert', '/usr/bin/demo-tool.real', '--add', '/usr/bin/demo-tool'],
      { stdio: 'ignore' },
    );
    dpkgInstall(root, debs.wrapper as string);
    assert.equal((await runCustos(['hashdb', 'import', 'deb', debs.wrapper as string, '--hashdb', hashdb])).code, 0);
    const r = await check();
    assert.deepEqual(summary(r.alerts), [], r.stderr);
    const events = jsonLines<EventJson>((await runCustos(['events', '--json', ...args.slice(0, 4)])).stdout);
    const last = (path: string): EventJson | undefined => events.filter((e) => e.syscheck.path === path).at(-1);
    assert.deepEqual([last('/usr/bin/demo-tool.real')?.known_hash.verdict, last('/usr/bin/demo-tool.real')?.known_hash.package], ['known-good', 'custos-demo']);
    assert.deepEqual([last('/usr/bin/demo-tool')?.known_hash.verdict, last('/usr/bin/demo-tool')?.known_hash.package], ['known-good', 'custos-wrapper']);
    // The diverted package's own file put back over the wrapper: not what belongs at that path any more.
    write(tool('2.0'));
    const back = await check();
    assert.deepEqual(summary(back.alerts), ['550 /usr/bin/demo-tool unknown']);
  });
});
