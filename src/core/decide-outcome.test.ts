import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { CUSTOS_RULES } from './builtin-rules.js';
import { CHECK_ALL } from './check-set.js';
import { decideBeforeRules, type OutcomeContext } from './decide-outcome.js';
import { diffFileStates, type FileChange } from './file-change.js';
import { UNKNOWN_VERDICT } from './known-hash-verdict.js';

const ctx: OutcomeContext = { mode: 'check', firstScan: false, alertNewFiles: true, judgement: { effect: 'default', verdict: UNKNOWN_VERDICT } };

function change(before: Parameters<typeof fileState>[0] | undefined, after: Parameters<typeof fileState>[0]): FileChange {
  const c = diffFileStates(before === undefined ? undefined : fileState(before), fileState(after), CHECK_ALL);
  if (c === undefined) throw new Error('the states must differ');
  return c;
}

describe('decideBeforeRules (issue 11)', () => {
  it('alerts a file that kept changing while it was read with rule 578, even inside a maintenance window', () => {
    const c = change({}, { hashes: { sha256: 'f'.repeat(64) }, issues: [{ code: 'changed-while-hashed', message: 'kept changing' }] });
    const outcome = decideBeforeRules(c, { ...ctx, maintenance: { id: 1, startedBy: 'ops', endsAt: '2099-01-01T00:00:00Z' } });
    assert.deepEqual(outcome.record === true && outcome.rule, CUSTOS_RULES.fileUnstable);
  });

  it('alerts a directory mounted over (new device and inode) with rule 579, and only records one whose mode changed', () => {
    const dir = { type: 'directory' as const, path: Buffer.from('/etc/ssh'), hashes: {} };
    const mounted = decideBeforeRules(change(dir, { ...dir, dev: 99, inode: 1 }), ctx);
    assert.deepEqual(mounted.record === true && mounted.rule, CUSTOS_RULES.directoryReplaced);
    const chmod = decideBeforeRules(change(dir, { ...dir, mode: 0o700 }), ctx);
    assert.equal(chmod.record, 'rules');
  });

  it('lets the rules alert a new directory the scan could not enter, and records an ordinary new one', () => {
    const dir = { type: 'directory' as const, path: Buffer.from('/srv/deep'), hashes: {} };
    const past = decideBeforeRules(change(undefined, { ...dir, issues: [{ code: 'unreadable-directory', message: 'not entered: deeper than recursion_level 256' }] }), ctx);
    assert.equal(past.record, 'rules');
    const plain = decideBeforeRules(change(undefined, dir), ctx);
    assert.equal(plain.record === true && plain.outcome, 'recorded');
  });

  it('alerts packaged content with a mode the package does not ship with rule 575, even in a maintenance window or with alert_new_files: no', () => {
    const c = change(undefined, { path: Buffer.from('/usr/bin/x'), mode: 0o4755, hashes: { sha256: 'a'.repeat(64) } });
    const verdict = { verdict: 'package-mismatch' as const, source: 'deb-verified', mismatch: 'setuid bit not declared' };
    const outcome = decideBeforeRules(c, { ...ctx, alertNewFiles: false, judgement: { effect: 'package-mismatch', verdict }, maintenance: { id: 1, startedBy: 'ops', endsAt: '2099-01-01T00:00:00Z' } });
    assert.deepEqual(outcome.record === true && [outcome.rule, outcome.reason], [CUSTOS_RULES.packageMismatch, 'setuid bit not declared']);
  });
});
