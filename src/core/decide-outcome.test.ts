import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import type { NoiseDecision } from './auto-ignore.js';
import { BUILTIN_RULES, CUSTOS_RULES, type RuleRef } from './builtin-rules.js';
import { CHECK_ALL } from './check-set.js';
import {
  decideBeforeRules,
  decideFromRule,
  eventOutcomeOf,
  type Decision,
  type OutcomeContext,
  type PreRuleDecision,
  type RuleResult,
} from './decide-outcome.js';
import { diffFileStates, type FileChange } from './file-change.js';
import type { FileState } from './file-state.js';
import type { Judgement } from './known-hash-policy.js';
import { UNKNOWN_VERDICT } from './known-hash-verdict.js';

// The expected decisions below are written from the rules in decide-outcome.ts's doc comments, one row per branch.

const ctx: OutcomeContext = { mode: 'check', firstScan: false, alertNewFiles: true, judgement: { effect: 'default', verdict: UNKNOWN_VERDICT } };
const window = { id: 7, startedBy: 'ops', endsAt: '2099-01-01T00:00:00Z' };
const knownBad: Judgement = { effect: 'known-bad', verdict: { verdict: 'known-bad', source: 'custom', label: 'rootkit' } };
const packaged: Judgement = {
  effect: 'silence',
  verdict: { verdict: 'known-good', source: 'deb-verified', package: 'openssh-server', version: '1:9.2p1-2', match: 'path+sha256' },
};
const unpackaged: Judgement = { effect: 'silence', verdict: { verdict: 'known-good', source: 'nsrl', match: 'sha256' } };
const removedWith: Judgement = {
  effect: 'silence',
  verdict: { verdict: 'known-good', source: 'dpkg-local', package: 'telnet', version: '0.17-44', match: 'removal', reason: 'removed with its package' },
};
const removedNoReason: Judgement = { effect: 'silence', verdict: { verdict: 'known-good', source: 'dpkg-local', match: 'removal' } };
const allowlisted = { source: '/var/ossec/etc/md5_whitelist', md5: 'd41d8cd98f00b204e9800998ecf8427e' };
const mismatch: Judgement = {
  effect: 'package-mismatch',
  verdict: { verdict: 'package-mismatch', source: 'deb-verified', mismatch: 'setuid bit not declared' },
};

function diff(before: FileState | undefined, after: FileState | undefined): FileChange {
  const c = diffFileStates(before, after, CHECK_ALL);
  if (c === undefined) throw new Error('the states must differ');
  return c;
}

const file = fileState();
const dir = fileState({ type: 'directory', path: Buffer.from('/etc/ssh'), size: 4096, mode: 0o755, hashes: {} });
const unstable = fileState({ hashes: { sha256: 'f'.repeat(64) }, issues: [{ code: 'changed-while-hashed', message: 'kept changing' }] });
const added = diff(undefined, file);
const modified = diff(file, fileState({ hashes: { sha256: 'a'.repeat(64) } }));
const deleted = diff(file, undefined);
const unstableModified = diff(file, unstable);
const unstableAdded = diff(undefined, unstable);
const dirAdded = diff(undefined, dir);
const dirDeleted = diff(dir, undefined);
const dirUnenterable = diff(undefined, { ...dir, issues: [{ code: 'unreadable-directory', message: 'not entered: deeper than recursion_level 256' }] });
const dirMounted = diff(dir, { ...dir, dev: 99, inode: 1 });
const dirSwapped = diff(dir, { ...dir, inode: 98765 });
const dirChmod = diff(dir, { ...dir, mode: 0o700 });

describe('decideBeforeRules: one row per rule of its doc comment, in its order', () => {
  const rows: readonly { readonly name: string; readonly change: FileChange; readonly ctx: Partial<OutcomeContext>; readonly expected: PreRuleDecision }[] = [
    {
      name: 'accept mode records as accepted, naming the actor',
      change: modified,
      ctx: { mode: 'accept', actor: 'alice' },
      expected: { kind: 'accept', reason: 'accepted by alice' },
    },
    { name: 'accept mode without an actor says so', change: deleted, ctx: { mode: 'accept' }, expected: { kind: 'accept', reason: 'accepted by unknown' } },
    {
      name: 'accept mode wins over a known-bad digest',
      change: modified,
      ctx: { mode: 'accept', actor: 'alice', judgement: knownBad },
      expected: { kind: 'accept', reason: 'accepted by alice' },
    },
    { name: 'a known-bad digest alerts (561)', change: modified, ctx: { judgement: knownBad }, expected: { kind: 'alert', rule: CUSTOS_RULES.knownBad } },
    {
      name: 'a known-bad digest alerts even while the baseline is first built',
      change: added,
      ctx: { firstScan: true, judgement: knownBad },
      expected: { kind: 'alert', rule: CUSTOS_RULES.knownBad },
    },
    {
      name: 'a known-bad digest alerts inside a maintenance window',
      change: modified,
      ctx: { judgement: knownBad, maintenance: window },
      expected: { kind: 'alert', rule: CUSTOS_RULES.knownBad },
    },
    { name: 'a first scan takes a new entry into the baseline silently', change: added, ctx: { firstScan: true }, expected: { kind: 'baseline' } },
    {
      name: 'a first scan records an entry that changed meanwhile',
      change: modified,
      ctx: { firstScan: true },
      expected: { kind: 'record', reason: 'changed while the baseline was first being built' },
    },
    {
      name: 'a first scan records a deletion meanwhile',
      change: deleted,
      ctx: { firstScan: true },
      expected: { kind: 'record', reason: 'changed while the baseline was first being built' },
    },
    { name: 'a first scan does not alert an unstable file', change: unstableAdded, ctx: { firstScan: true }, expected: { kind: 'baseline' } },
    {
      name: 'a modified file that kept changing alerts (578)',
      change: unstableModified,
      ctx: {},
      expected: { kind: 'alert', rule: CUSTOS_RULES.fileUnstable, reason: 'the file kept changing while it was read' },
    },
    {
      name: 'a new file that kept changing alerts (578)',
      change: unstableAdded,
      ctx: {},
      expected: { kind: 'alert', rule: CUSTOS_RULES.fileUnstable, reason: 'the file kept changing while it was read' },
    },
    {
      name: 'an unstable file alerts whatever would explain it: a package, a window, the allowlist',
      change: unstableModified,
      ctx: { judgement: packaged, maintenance: window, md5Allowlisted: allowlisted },
      expected: { kind: 'alert', rule: CUSTOS_RULES.fileUnstable, reason: 'the file kept changing while it was read' },
    },
    {
      name: 'a directory mounted over (new device) alerts (579), naming both devices',
      change: dirMounted,
      ctx: {},
      expected: { kind: 'alert', rule: CUSTOS_RULES.directoryReplaced, reason: 'directory mounted over or replaced: its device changed from 2049 to 99' },
    },
    {
      name: 'a directory swapped for another (same device, new inode) alerts (579), even in a window',
      change: dirSwapped,
      ctx: { maintenance: window },
      expected: { kind: 'alert', rule: CUSTOS_RULES.directoryReplaced, reason: 'directory mounted over or replaced: its inode changed' },
    },
    { name: 'a directory whose mode changed goes to the rules', change: dirChmod, ctx: {}, expected: { kind: 'rules' } },
    {
      name: 'a new directory is recorded (its files report themselves)',
      change: dirAdded,
      ctx: {},
      expected: { kind: 'record', reason: 'directories are recorded, their files alert' },
    },
    {
      name: 'a deleted directory is recorded',
      change: dirDeleted,
      ctx: {},
      expected: { kind: 'record', reason: 'directories are recorded, their files alert' },
    },
    { name: 'a new directory the scan could not enter goes to the rules', change: dirUnenterable, ctx: {}, expected: { kind: 'rules' } },
    {
      name: 'an allowlisted MD5 is recorded, naming the list and the MD5',
      change: modified,
      ctx: { md5Allowlisted: allowlisted },
      expected: { kind: 'record', reason: 'md5 allowlist /var/ossec/etc/md5_whitelist: d41d8cd98f00b204e9800998ecf8427e' },
    },
    {
      name: 'an allowlisted MD5 is recorded for a new file even with alert_new_files on',
      change: added,
      ctx: { md5Allowlisted: allowlisted },
      expected: { kind: 'record', reason: 'md5 allowlist /var/ossec/etc/md5_whitelist: d41d8cd98f00b204e9800998ecf8427e' },
    },
    { name: 'the allowlist does not explain a deletion', change: deleted, ctx: { md5Allowlisted: allowlisted }, expected: { kind: 'rules' } },
    {
      name: 'content a package explains is recorded with the package and version',
      change: modified,
      ctx: { judgement: packaged, maintenance: window },
      expected: { kind: 'record', reason: 'known-good content: openssh-server 1:9.2p1-2 (deb-verified)' },
    },
    {
      name: 'content a hash set explains is recorded with the source',
      change: added,
      ctx: { judgement: unpackaged },
      expected: { kind: 'record', reason: 'known-good content: nsrl' },
    },
    {
      name: 'a deletion a package removal explains is recorded with the reason',
      change: deleted,
      ctx: { judgement: removedWith },
      expected: { kind: 'record', reason: 'package removal: removed with its package, telnet 0.17-44 (dpkg-local)' },
    },
    {
      name: 'a package removal without a reason says removed',
      change: deleted,
      ctx: { judgement: removedNoReason },
      expected: { kind: 'record', reason: 'package removal: removed, dpkg-local' },
    },
    {
      name: 'a maintenance window records, naming the window',
      change: modified,
      ctx: { maintenance: window },
      expected: { kind: 'record', reason: 'maintenance window 7 (started by ops, until 2099-01-01T00:00:00Z)' },
    },
    {
      name: 'a maintenance window also takes a new file with alert_new_files off',
      change: added,
      ctx: { maintenance: window, alertNewFiles: false },
      expected: { kind: 'record', reason: 'maintenance window 7 (started by ops, until 2099-01-01T00:00:00Z)' },
    },
    {
      name: 'a new file with alert_new_files off is recorded',
      change: added,
      ctx: { alertNewFiles: false },
      expected: { kind: 'record', reason: 'new files are not alerted (alert_new_files: no)' },
    },
    { name: 'alert_new_files off does not spare a modification', change: modified, ctx: { alertNewFiles: false }, expected: { kind: 'rules' } },
    { name: 'a new file otherwise goes to the rules', change: added, ctx: {}, expected: { kind: 'rules' } },
    { name: 'a modification otherwise goes to the rules', change: modified, ctx: {}, expected: { kind: 'rules' } },
    { name: 'a deletion otherwise goes to the rules', change: deleted, ctx: {}, expected: { kind: 'rules' } },
    {
      name: 'packaged content with a mode the package does not ship alerts (575), even with an allowlisted MD5, in a window, with alert_new_files off',
      change: added,
      ctx: { judgement: mismatch, md5Allowlisted: allowlisted, maintenance: window, alertNewFiles: false },
      expected: { kind: 'alert', rule: CUSTOS_RULES.packageMismatch, reason: 'setuid bit not declared' },
    },
    {
      name: 'content known elsewhere does not explain anything (the rules decide)',
      change: modified,
      ctx: { judgement: { effect: 'default', verdict: { verdict: 'known-elsewhere', source: 'nsrl' } } },
      expected: { kind: 'rules' },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.deepEqual(decideBeforeRules(row.change, { ...ctx, ...row.ctx }), row.expected);
    });
  }
});

describe('decideFromRule: one row per rule of its doc comment', () => {
  const level0: RuleRef = { id: 100_200, level: 0, description: 'Ignore /var/log churn', groups: ['local'] };
  const changed: RuleResult = { rule: BUILTIN_RULES.modified, noLog: false };
  const state = { windowStartMs: 0, changes: 4, rolledUp: 2 };
  const noise = (action: NoiseDecision['action'], rolledUpBefore = 0): NoiseDecision => ({ action, state, rolledUpBefore });
  const rows: readonly {
    readonly name: string;
    readonly result: RuleResult | undefined;
    readonly noise: NoiseDecision | undefined;
    readonly expected: Decision;
  }[] = [
    { name: 'no rule matched: recorded without an alert', result: undefined, noise: undefined, expected: { kind: 'record', reason: 'no rule matched' } },
    { name: 'no rule matched, whatever auto-ignore said', result: undefined, noise: noise('roll-up'), expected: { kind: 'record', reason: 'no rule matched' } },
    {
      name: 'a level-0 rule records with the rule (OSSEC ignore)',
      result: { rule: level0, noLog: false },
      noise: undefined,
      expected: { kind: 'record', rule: level0, reason: 'rule 100200 (level 0): Ignore /var/log churn' },
    },
    {
      name: 'a level-0 rule records even when auto-ignore would roll up',
      result: { rule: level0, noLog: true },
      noise: noise('roll-up'),
      expected: { kind: 'record', rule: level0, reason: 'rule 100200 (level 0): Ignore /var/log churn' },
    },
    {
      name: 'a noisy file past its roll-up is recorded with the rule, counting the change',
      result: changed,
      noise: noise('suppress'),
      expected: { kind: 'record', rule: BUILTIN_RULES.modified, reason: 'rolled up: the file changes too often (change 4 in this window)' },
    },
    {
      name: 'the change that makes a file noisy raises the roll-up alert instead of its rule',
      result: changed,
      noise: noise('roll-up'),
      expected: { kind: 'alert', rule: CUSTOS_RULES.noisy },
    },
    { name: 'a matched rule alerts', result: changed, noise: undefined, expected: { kind: 'alert', rule: BUILTIN_RULES.modified } },
    {
      name: 'a matched rule alerts when auto-ignore says alert',
      result: changed,
      noise: noise('alert'),
      expected: { kind: 'alert', rule: BUILTIN_RULES.modified },
    },
    {
      name: 'the first alert after a noisy spell carries the roll-up count',
      result: changed,
      noise: noise('alert', 5),
      expected: { kind: 'alert', rule: BUILTIN_RULES.modified, rolledUp: 5 },
    },
    {
      name: 'a no_log rule alerts with noLog',
      result: { rule: BUILTIN_RULES.modified, noLog: true },
      noise: undefined,
      expected: { kind: 'alert', rule: BUILTIN_RULES.modified, noLog: true },
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      assert.deepEqual(decideFromRule(row.result, row.noise), row.expected);
    });
  }
});

describe('eventOutcomeOf', () => {
  const rows: readonly [Exclude<Decision, { kind: 'baseline' }>, string][] = [
    [{ kind: 'accept', reason: 'accepted by alice' }, 'accepted'],
    [{ kind: 'record', reason: 'no rule matched' }, 'recorded'],
    [{ kind: 'alert', rule: BUILTIN_RULES.modified }, 'alerted'],
  ];
  for (const [decision, expected] of rows) {
    it(`${decision.kind} is written to the history as ${expected}`, () => {
      assert.equal(eventOutcomeOf(decision), expected);
    });
  }
});
