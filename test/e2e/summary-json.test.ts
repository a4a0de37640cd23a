import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Alert } from '../../src/core/build-alert.js';
import { checkWorkspace } from '../support/check-workspace.js';
import { jsonLines, runCustos } from '../support/run-custos.js';

/** The `custos_summary` object `check --json` writes on stderr. */
function summaryOf(stderr: string): Record<string, unknown> {
  const line = stderr.split('\n').find((l) => l.startsWith('{"custos_summary"'));
  assert.ok(line !== undefined, stderr);
  return (JSON.parse(line) as { custos_summary: Record<string, unknown> }).custos_summary;
}

describe('check --json: the summary as JSON, files checked by attributes only counted (issue 21)', () => {
  it('counts a file over max_file_size, and a ctime change alone is alerted on it', { timeout: 60_000 }, async () => {
    const ws = checkWorkspace('  max_file_size: 1KiB\n');
    const big = join(ws.tree, 'big.img');
    writeFileSync(big, Buffer.alloc(4096, 'b'));
    writeFileSync(join(ws.tree, 'small'), 'a\n');
    const first = await runCustos(['check', '--json', ...ws.args]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '', 'stdout holds alerts only');
    const built = summaryOf(first.stderr);
    assert.equal(built.attributes_only, 1);
    assert.equal(built.bytes_hashed, 2, 'only the small file was read');
    assert.equal(built.built_baseline, true);
    assert.match(first.stderr, /1 files over max_file_size checked by attributes only/);

    // chmod to the same mode: only ctime moves, and the content is never read.
    chmodSync(big, 0o644);
    chmodSync(big, 0o644);
    const second = await runCustos(['check', '--json', ...ws.args]);
    assert.equal(second.code, 1, second.stderr);
    const alerts = jsonLines<Alert>(second.stdout);
    assert.deepEqual(
      alerts.map((a) => [a.syscheck.path, a.syscheck.changed_attributes]),
      [[big, ['ctime']]],
    );
    const summary = summaryOf(second.stderr);
    assert.equal(summary.attributes_only, 1);
    assert.equal(summary.modified, 1);
    assert.equal(summary.alerts, 1);
    assert.equal((summary.history as { records: number }).records, 1);
  });
});
