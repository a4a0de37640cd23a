import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { buildDeb, dpkgInstall, makeDpkgRoot } from '../support/debian-packages.js';
import { jsonLines, runCustos } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

// Real packages built with dpkg-deb: one installed with the real dpkg into a root of its own (its database
// imported), one only imported from its .deb. The second one's content is known, but not installed here.
describe('content of a package that is not installed is not known-good', () => {
  const dir = tempDir();
  const root = join(dir, 'root');
  const hashdb = join(dir, 'hashdb.sqlite');
  const args = ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'custos.db'), '--hashdb', hashdb, '--root', root];
  const check = async (): Promise<{ code: number | null; alerts: Alert[]; stderr: string }> => {
    const r = await runCustos(['check', '--json', ...args]);
    return { code: r.code, alerts: jsonLines<Alert>(r.stdout), stderr: r.stderr };
  };
  const content = (name: string): string => `#!/bin/sh\necho ${name}\n`;
  let absentDeb = '';

  before(async () => {
    const deb = buildDeb(dir, {
      name: 'custos-installed-demo',
      version: '1.0',
      files: [
        { path: 'usr/bin/tool-a', content: content('a'), mode: 0o755 },
        { path: 'usr/bin/tool-b', content: content('b'), mode: 0o755 },
      ],
    });
    absentDeb = buildDeb(dir, {
      name: 'custos-absent-demo',
      version: '1.0',
      files: [{ path: 'usr/bin/absent-tool', content: content('absent'), mode: 0o755 }],
    });
    makeDpkgRoot(root);
    dpkgInstall(root, deb);
    writeFileSync(join(dir, 'custos.yml'), 'syscheck:\n  directories:\n    - path: /usr\n');
    const imported = await runCustos(['hashdb', 'import', 'dpkg', '--root', root, '--hashdb', hashdb, '--quiet']);
    assert.equal(imported.code, 0, imported.stderr);
    assert.equal((await check()).code, 0);
  });

  it('content of a package that is imported but not installed is not known-good (rule 573, not-installed)', async () => {
    const imported = await runCustos(['hashdb', 'import', 'deb', absentDeb, '--hashdb', hashdb, '--quiet']);
    assert.equal(imported.code, 0, imported.stderr);
    writeFileSync(join(root, 'usr/bin/absent-tool'), content('absent'), { mode: 0o755 });
    const r = await check();
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(
      r.alerts.map((a) => [String(a.rule.id), a.syscheck.path, a.known_hash.verdict, (a.known_hash as { relation?: string }).relation]),
      [['573', '/usr/bin/absent-tool', 'other-version', 'not-installed']],
    );
  });

  it("on a root with no dpkg database at all, no .deb's content is known-good (573, not-installed)", async () => {
    const bare = join(dir, 'bare');
    mkdirSync(join(bare, 'usr/bin'), { recursive: true });
    const bareArgs = ['--config', join(dir, 'custos.yml'), '--db', join(dir, 'bare.db'), '--hashdb', hashdb, '--root', bare];
    assert.equal((await runCustos(['check', ...bareArgs])).code, 0);
    writeFileSync(join(bare, 'usr/bin/absent-tool'), content('absent'), { mode: 0o755 });
    const r = await runCustos(['check', '--json', ...bareArgs]);
    assert.deepEqual(
      jsonLines<Alert>(r.stdout).map((a) => [String(a.rule.id), a.syscheck.path, a.known_hash.verdict, (a.known_hash as { relation?: string }).relation]),
      [['573', '/usr/bin/absent-tool', 'other-version', 'not-installed']],
      r.stderr,
    );
  });
});
