import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { CHECK_ALL } from './check-set.js';
import { diffFileStates, type FileChange } from './file-change.js';
import { DEFAULT_KNOWN_HASH_POLICY, judgeChange, NO_EVIDENCE, type HashEvidence, type HashSourceKind } from './known-hash-policy.js';

const path = Buffer.from('/usr/bin/ls');
const modified = diffFileStates(
  fileState({ path }),
  fileState({ path, size: 2, hashes: { sha256: 'a'.repeat(64), md5: 'b'.repeat(32) } }),
  CHECK_ALL,
) as FileChange;
const chmodded = diffFileStates(fileState({ path }), fileState({ path, mode: 0o4755 }), CHECK_ALL) as FileChange;
const deleted = diffFileStates(fileState({ path }), undefined, CHECK_ALL) as FileChange;
const addedPlain = diffFileStates(undefined, fileState({ path, mode: 0o755 }), CHECK_ALL) as FileChange;
const ev = (kind: HashSourceKind, at: string | undefined, extra: Partial<HashEvidence> = {}): HashEvidence => ({
  algorithm: 'sha256',
  ...(at === undefined ? {} : { path: Buffer.from(at) }),
  package: { name: 'coreutils', version: '9.1-1', arch: 'amd64' },
  source: { kind, name: kind },
  bad: false,
  ...extra,
});

const removal = (host: string) => ({
  package: { name: 'coreutils', version: '9.1-1', arch: 'amd64' },
  source: { kind: 'dpkg-local' as const, name: 'dpkg /', host },
  reason: 'removed with its package',
});

describe('judgeChange', () => {
  const cases: [string, FileChange, Parameters<typeof judgeChange>[1], string, string][] = [
    ['nothing known', modified, NO_EVIDENCE, 'unknown', 'default'],
    ['a verified package at the same path silences', modified, { ...NO_EVIDENCE, atPath: [ev('deb-verified', '/usr/bin/ls')] }, 'known-good', 'silence'],
    [
      'the host’s own dpkg database silences by default',
      modified,
      { ...NO_EVIDENCE, atPath: [ev('dpkg-local', '/usr/bin/ls', { algorithm: 'md5' })] },
      'known-good',
      'silence',
    ],
    [
      'another path is known-elsewhere, never good',
      modified,
      { ...NO_EVIDENCE, elsewhere: [ev('deb-verified', '/usr/bin/dir')] },
      'known-elsewhere',
      'known-elsewhere',
    ],
    [
      'a hash-only set (NSRL) is known-elsewhere',
      modified,
      { ...NO_EVIDENCE, elsewhere: [{ algorithm: 'sha256', source: { kind: 'nsrl', name: 'NSRL' }, bad: false }] },
      'known-elsewhere',
      'known-elsewhere',
    ],
    [
      'known-bad beats a verified package',
      modified,
      { atPath: [ev('deb-verified', '/usr/bin/ls')], elsewhere: [], bad: [ev('manual', undefined, { bad: true, label: 'Mirai' })] },
      'known-bad',
      'known-bad',
    ],
    [
      'a setuid bit no source declares is a package mismatch',
      chmodded,
      { ...NO_EVIDENCE, atPath: [ev('deb-verified', '/usr/bin/ls')] },
      'package-mismatch',
      'package-mismatch',
    ],
    [
      'a permission change the declaration allows still alerts',
      chmodded,
      { ...NO_EVIDENCE, atPath: [ev('deb-verified', '/usr/bin/ls', { declared: { mode: 0o4755, owner: 'root', group: 'root' } })] },
      'known-good',
      'default',
    ],
    [
      'a new file with packaged content at its path is silenced',
      addedPlain,
      { ...NO_EVIDENCE, atPath: [ev('deb-verified', '/usr/bin/ls')] },
      'known-good',
      'silence',
    ],
    ['a deletion is never silenced by hashes', deleted, { ...NO_EVIDENCE, atPath: [ev('deb-verified', '/usr/bin/ls')] }, 'unknown', 'default'],
    ["a deletion the host's package removal explains is silenced", deleted, { ...NO_EVIDENCE, removed: [removal('web1')] }, 'known-good', 'silence'],
    ["another host's package removal explains nothing here", deleted, { ...NO_EVIDENCE, removed: [removal('web2')] }, 'unknown', 'default'],
    [
      'another host’s package database is ignored',
      modified,
      { ...NO_EVIDENCE, atPath: [ev('dpkg-local', '/usr/bin/ls', { source: { kind: 'dpkg-local', name: 'dpkg /', host: 'web2' } })] },
      'unknown',
      'default',
    ],
  ];
  for (const [name, change, evidence, verdict, effect] of cases) {
    it(name, () => {
      const j = judgeChange(change, evidence, DEFAULT_KNOWN_HASH_POLICY, 'web1');
      assert.equal(j.verdict.verdict, verdict);
      assert.equal(j.effect, effect);
    });
  }
  it('reports the strongest evidence: the verified package over the host claim, SHA-256 over MD5', () => {
    const j = judgeChange(
      modified,
      { ...NO_EVIDENCE, atPath: [ev('dpkg-local', '/usr/bin/ls', { algorithm: 'md5' }), ev('deb-verified', '/usr/bin/ls')] },
      DEFAULT_KNOWN_HASH_POLICY,
      'web1',
    );
    assert.deepEqual(j.verdict, { verdict: 'known-good', source: 'deb-verified', package: 'coreutils', version: '9.1-1', arch: 'amd64', match: 'path+sha256' });
  });
  it('matches a hash on any path only in OSSEC compatibility mode (match: hash)', () => {
    const evidence = { ...NO_EVIDENCE, elsewhere: [ev('ossec-md5db', undefined, { algorithm: 'md5' })] };
    assert.equal(judgeChange(modified, evidence, DEFAULT_KNOWN_HASH_POLICY, 'h').effect, 'known-elsewhere');
    const compat = { match: 'hash' as const, silence: [{ sources: ['ossec-md5db' as const], paths: ['/'] }] };
    const j = judgeChange(modified, evidence, compat, 'h');
    assert.equal(j.effect, 'silence');
    assert.equal(j.verdict.match, 'md5');
  });
  it('names the package and the reason of an explained deletion, and honours the policy for it', () => {
    const j = judgeChange(deleted, { ...NO_EVIDENCE, removed: [removal('web1')] }, DEFAULT_KNOWN_HASH_POLICY, 'web1');
    assert.deepEqual(j.verdict, {
      verdict: 'known-good',
      source: 'dpkg-local',
      package: 'coreutils',
      version: '9.1-1',
      arch: 'amd64',
      match: 'removal',
      reason: 'removed with its package',
    });
    const strict = { match: 'path' as const, silence: [{ sources: ['deb-verified' as const], paths: ['/'] }] };
    assert.equal(
      judgeChange(deleted, { ...NO_EVIDENCE, removed: [removal('web1')] }, strict, 'web1').effect,
      'default',
      'dpkg-local may not silence under this policy',
    );
  });
  it("judges Debian packages' content against the installed version, and leaves other package systems' alone", () => {
    const installed = new Map([['coreutils', [{ version: '9.1-2', arch: 'amd64' }]]]);
    const old = judgeChange(modified, { ...NO_EVIDENCE, atPath: [ev('deb-verified', '/usr/bin/ls')] }, DEFAULT_KNOWN_HASH_POLICY, 'web1', installed);
    assert.deepEqual(
      [old.verdict.verdict, old.verdict.version, old.verdict.installed_version, old.verdict.relation],
      ['other-version', '9.1-1', '9.1-2', 'older'],
    );
    const rpm = judgeChange(modified, { ...NO_EVIDENCE, atPath: [ev('rpm', '/usr/bin/ls')] }, DEFAULT_KNOWN_HASH_POLICY, 'web1', installed);
    assert.equal(rpm.verdict.verdict, 'known-good', "dpkg's database says nothing about rpm packages");
    const none = judgeChange(modified, { ...NO_EVIDENCE, atPath: [ev('manual', '/usr/bin/ls')] }, DEFAULT_KNOWN_HASH_POLICY, 'web1', new Map());
    assert.deepEqual([none.verdict.verdict, none.verdict.relation, none.effect], ['other-version', 'not-installed', 'default']);
  });
  it('lets the policy decide which sources silence which paths', () => {
    const policy = { match: 'path' as const, silence: [{ sources: ['dpkg-local' as const], paths: ['/etc'] }] };
    const j = judgeChange(modified, { ...NO_EVIDENCE, atPath: [ev('dpkg-local', '/usr/bin/ls')] }, policy, 'h');
    assert.equal(j.verdict.verdict, 'known-good');
    assert.equal(j.effect, 'default', 'known, but this source may not silence /usr');
  });
});

describe('judgeChange: content of a package that is not installed', () => {
  it("is not known-good in OSSEC's match: hash mode either (known elsewhere, from a package not installed)", () => {
    const compat = { match: 'hash' as const, silence: [{ sources: ['deb-verified' as const], paths: ['/'] }] };
    const evidence = { ...NO_EVIDENCE, elsewhere: [ev('deb-verified', '/usr/bin/dir')] };
    assert.equal(judgeChange(modified, evidence, compat, 'h').effect, 'silence', 'without installed-package state, as before');
    assert.equal(judgeChange(modified, evidence, compat, 'h', new Map([['coreutils', [{ version: '9.1-1', arch: 'amd64' }]]])).effect, 'silence');
    const j = judgeChange(modified, evidence, compat, 'h', new Map());
    assert.deepEqual([j.verdict.verdict, j.effect], ['known-elsewhere', 'known-elsewhere']);
  });
});

describe('judgeChange: the mode and owner the package declares', () => {
  const declared = { mode: 0o755, uid: 0, gid: 0, owner: 'root', group: 'root' };
  const added = (extra: Parameters<typeof fileState>[0]): FileChange => diffFileStates(undefined, fileState({ path, ...extra }), CHECK_ALL) as FileChange;
  const atPath = (...e: HashEvidence[]): Parameters<typeof judgeChange>[1] => ({ ...NO_EVIDENCE, atPath: e });

  it('silences a new copy with the declared mode and owner', () => {
    assert.equal(
      judgeChange(added({ mode: 0o755 }), atPath(ev('deb-verified', '/usr/bin/ls', { declared })), DEFAULT_KNOWN_HASH_POLICY, 'h').effect,
      'silence',
    );
  });
  it('silences a copy with fewer permissions than declared (hardened)', () => {
    assert.equal(
      judgeChange(added({ mode: 0o700 }), atPath(ev('deb-verified', '/usr/bin/ls', { declared })), DEFAULT_KNOWN_HASH_POLICY, 'h').effect,
      'silence',
    );
  });
  it('alerts on a setuid copy with both modes in the verdict', () => {
    const j = judgeChange(added({ mode: 0o4755 }), atPath(ev('deb-verified', '/usr/bin/ls', { declared })), DEFAULT_KNOWN_HASH_POLICY, 'h');
    assert.equal(j.effect, 'package-mismatch');
    assert.deepEqual(j.verdict, {
      verdict: 'package-mismatch',
      source: 'deb-verified',
      package: 'coreutils',
      version: '9.1-1',
      arch: 'amd64',
      match: 'path+sha256',
      declared_mode: '0755',
      declared_owner: 'root',
      declared_group: 'root',
      actual_mode: '4755',
      actual_owner: 'root',
      actual_group: 'root',
      mismatch: 'setuid bit not declared',
    });
  });
  it('alerts on group or other write, and on another owner or group (by name, else by id)', () => {
    const j = judgeChange(
      added({ mode: 0o757, uid: 65534, uname: 'nobody', gid: 50, gname: 'staff' }),
      atPath(ev('deb-verified', '/usr/bin/ls', { declared })),
      DEFAULT_KNOWN_HASH_POLICY,
      'h',
    );
    assert.equal(j.verdict.mismatch, 'other write bit not declared; owner nobody, declared root; group staff, declared root');
    const byId = judgeChange(
      added({ mode: 0o755, uid: 1000 }),
      atPath(ev('dpkg-local', '/usr/bin/ls', { algorithm: 'md5', declared: { mode: 0o755, uid: 0, gid: 0, observed: true } })),
      DEFAULT_KNOWN_HASH_POLICY,
      'h',
    );
    assert.equal(byId.effect, 'package-mismatch');
    assert.equal(byId.verdict.declared_by, 'observed at import');
  });
  it('takes the most trusted declaration: a .deb over what dpkg-local observed', () => {
    const observed = ev('dpkg-local', '/usr/bin/ls', { algorithm: 'md5', declared: { mode: 0o4755, uid: 0, gid: 0, observed: true } });
    const j = judgeChange(added({ mode: 0o4755 }), atPath(observed, ev('deb-verified', '/usr/bin/ls', { declared })), DEFAULT_KNOWN_HASH_POLICY, 'h');
    assert.equal(j.effect, 'package-mismatch');
    assert.equal(j.verdict.source, 'deb-verified');
  });
  it('keeps a setuid bit the baseline already had when no source declares a mode (a package update of a setuid program)', () => {
    const update = diffFileStates(
      fileState({ path, mode: 0o4755 }),
      fileState({ path, mode: 0o4755, size: 9, hashes: { sha256: 'c'.repeat(64) } }),
      CHECK_ALL,
    ) as FileChange;
    assert.equal(judgeChange(update, atPath(ev('dpkg-local', '/usr/bin/ls', { algorithm: 'md5' })), DEFAULT_KNOWN_HASH_POLICY, 'h').effect, 'silence');
    assert.equal(
      judgeChange(added({ mode: 0o2755 }), atPath(ev('dpkg-local', '/usr/bin/ls', { algorithm: 'md5' })), DEFAULT_KNOWN_HASH_POLICY, 'h').verdict.mismatch,
      'setgid bit that no package source declares',
    );
  });
});
