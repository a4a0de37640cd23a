import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launcherNodeFlags, parseLauncherFlags } from '../../bench/launcher-flags.js';

const LAUNCHER = fileURLToPath(new URL('../../../bin/custos.js', import.meta.url));

describe('the V8 flags the bench gives an in-process benchmark of a service', () => {
  it('are those of the launcher: its shebang line, then what it sets at run time', () => {
    const text = "#!/usr/bin/env -S node --max-semi-space-size=8 --no-opt\nsetFlagsFromString('--heap-growing-percent=30');\n";
    assert.deepEqual(parseLauncherFlags(text), ['--max-semi-space-size=8', '--no-opt', '--heap-growing-percent=30']);
    assert.deepEqual(parseLauncherFlags('#!/usr/bin/env node\n'), []);
    // A semi-space size set at run time sizes the workers started after it, not the launcher's own thread.
    const workers = "#!/usr/bin/env -S node --max-semi-space-size=4\nsetFlagsFromString('--max-semi-space-size=0');\n";
    assert.deepEqual(parseLauncherFlags(workers), ['--max-semi-space-size=4']);
  });

  it("are read from the real launcher, and the node that runs the bench takes them as the launcher's node does", () => {
    const flags = launcherNodeFlags(LAUNCHER);
    assert.ok(flags.length > 0, 'the launcher sets heap flags');
    assert.ok(
      flags.some((f) => f.startsWith('--max-semi-space-size=')),
      'the young generation the launcher sets (the one flag the manager ingest is most sensitive to)',
    );
    // Node takes every one of them on its command line (an unknown flag would stop it).
    const printed = execFileSync(process.execPath, [...flags, '-e', 'console.log(JSON.stringify(process.execArgv))'], { encoding: 'utf8' });
    assert.deepEqual((JSON.parse(printed) as string[]).slice(0, flags.length), flags);
  });
});
