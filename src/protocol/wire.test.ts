import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileState } from '../../test/support/file-states.js';
import { buildCheckSet, CHECK_ALL, type CheckSet } from '../core/check-set.js';
import type { Observation } from '../core/observation.js';
import { BatchRequest, BatchResponse, decodeChecks, decodeObservation, encodeChecks, encodeObservation, EnrollRequest, KeepaliveRequest } from './wire.js';
import { DecodeError } from './decode-error.js';

const CHECK_KEYS = [
  'md5',
  'sha1',
  'sha256',
  'size',
  'owner',
  'group',
  'perm',
  'mtime',
  'inode',
  'capabilities',
  'acl',
  'selinux',
  'xattrs',
  'flags',
  'linkCount',
] as const;
const NOTHING = Object.fromEntries(CHECK_KEYS.map((k) => [k, false])) as unknown as CheckSet;

/** What the manager sees: the encoded observation after a trip through JSON text and the request schema. */
function overTheWire(o: Observation): Observation {
  const body: unknown = JSON.parse(JSON.stringify({ agentId: '001', seq: 1, observations: [encodeObservation(o)] }));
  const parsed = BatchRequest.parse(body);
  assert.equal(parsed.observations.length, 1);
  return decodeObservation(parsed.observations[0]!);
}

describe('encodeChecks / decodeChecks', () => {
  it('packs every check into its own bit and unpacks it again', () => {
    // Everything on is the number older managers know: the newer checks' bits say "off".
    assert.equal(encodeChecks(CHECK_ALL), 511);
    const seen = new Set<number>();
    for (const key of CHECK_KEYS) {
      const only = Object.fromEntries(CHECK_KEYS.map((k) => [k, k === key])) as unknown as CheckSet;
      const bit = encodeChecks(only) ^ encodeChecks(NOTHING);
      assert.equal(bit & (bit - 1), 0, `${key} is one bit`);
      assert.notEqual(bit, 0, `${key} has a bit`);
      assert.ok(!seen.has(bit), `${key} has its own bit`);
      seen.add(bit);
      assert.deepEqual(decodeChecks(encodeChecks(only)), only);
    }
  });
  it('sends only the 9 bits an older manager knows until the manager says it takes more', () => {
    const noCapabilities = buildCheckSet({ check_all: true, check_capabilities: false, check_link_count: false });
    assert.ok(encodeChecks(noCapabilities) > 511);
    assert.equal(encodeChecks(noCapabilities, false), 511);
    const o: Observation = { path: Buffer.from('/etc/hosts'), checks: noCapabilities, inBaseline: true };
    const old = encodeObservation(o, false);
    assert.equal(old.c, 511);
    assert.deepEqual(decodeObservation(old).checks, CHECK_ALL);
  });
  it('round-trips every one of the 32768 check sets', () => {
    for (let mask = 0; mask < 32768; mask++) {
      const checks = decodeChecks(mask);
      assert.deepEqual(Object.keys(checks).sort(), [...CHECK_KEYS].sort());
      assert.equal(encodeChecks(checks), mask);
    }
  });
  it('round-trips check sets built from OSSEC options', () => {
    for (const options of [{}, { check_sum: true }, { check_all: true, check_md5sum: false }, { check_size: true, check_inode: true }]) {
      const checks = buildCheckSet(options);
      assert.deepEqual(decodeChecks(encodeChecks(checks)), checks);
    }
  });
  it('decodes nothing checked as all false', () => {
    assert.ok(Object.values(decodeChecks(encodeChecks(NOTHING))).every((v) => v === false));
  });
  it("decodes an older agent's mask with the newer checks on, as check_all has them", () => {
    const checks = decodeChecks(0);
    assert.deepEqual(
      CHECK_KEYS.filter((k) => checks[k]),
      ['capabilities', 'acl', 'selinux', 'xattrs', 'flags', 'linkCount'],
    );
  });
});

describe('encodeObservation / decodeObservation', () => {
  it('round-trips a present file, marking it as one the manager must look up', () => {
    const o: Observation = { path: Buffer.from('/etc/hosts'), current: fileState(), checks: buildCheckSet({ check_sum: true }), inBaseline: false };
    const wire = encodeObservation(o);
    assert.equal(wire.p, Buffer.from('/etc/hosts').toString('base64'));
    assert.deepEqual(overTheWire(o), { ...o, inBaseline: true });
  });
  it('carries inode attributes (capabilities, ACLs, flags, ...) exactly, and refuses malformed ones', () => {
    const inodeAttributes = {
      capabilities: 'cap_setuid=ep',
      acl: 'user::rwx,user:65534:rwx,group::r-x,mask::rwx,other::r-x',
      defaultAcl: '',
      selinux: '',
      xattrs: 'user.x=6b86b273ff34fce1',
      flags: 'i',
    };
    const o: Observation = {
      path: Buffer.from('/usr/bin/helper'),
      current: fileState({ path: Buffer.from('/usr/bin/helper'), inodeAttributes }),
      checks: CHECK_ALL,
      inBaseline: true,
    };
    assert.deepEqual(overTheWire(o).current?.inodeAttributes, inodeAttributes);
    const only = { ...o, current: fileState({ path: o.path, inodeAttributes: { flags: '-' } }) };
    assert.deepEqual(overTheWire(only).current?.inodeAttributes, { flags: '-' }, 'fields not read stay absent');
    const wire = encodeObservation(o);
    for (const bad of [{ c: 'cap\nline' }, { z: 'unknown key' }, { c: 5 }, ['c'], 'text']) {
      assert.throws(() => decodeObservation({ ...wire, s: { ...(wire.s as object), a: bad } }), /file state (field a|attribute)/, JSON.stringify(bad));
    }
  });
  it('keeps a non-UTF-8 path exactly, in the observation and in its state', () => {
    const path = Buffer.concat([Buffer.from('/srv/d\xe9j\xe0/', 'latin1'), Buffer.from([0xff, 0xfe, 0x0a, 0x80]), Buffer.from('.conf')]);
    const o: Observation = {
      path,
      current: fileState({ path, type: 'symlink', linkTarget: Buffer.from([0x2f, 0xc3, 0x28]), hashes: {} }),
      checks: CHECK_ALL,
      inBaseline: true,
    };
    const back = overTheWire(o);
    assert.ok(back.path.equals(path));
    assert.ok(back.current?.path.equals(path));
    assert.deepEqual(back, o);
  });
  it('round-trips a deletion (no state) with its checks', () => {
    const o: Observation = { path: Buffer.from('/etc/gone'), checks: buildCheckSet({ check_perm: true }), inBaseline: true };
    const wire = encodeObservation(o);
    assert.equal('s' in wire, false);
    assert.deepEqual(overTheWire(o), o);
  });
  it('round-trips a state with issues and without names', () => {
    const { uname: _u, gname: _g, ...rest } = fileState();
    const current = { ...rest, hashes: {}, issues: [{ code: 'permission-denied' as const, message: 'EACCES' }] };
    const o: Observation = { path: current.path, current, checks: CHECK_ALL, inBaseline: true };
    assert.deepEqual(overTheWire(o), o);
  });
  it('refuses a relative or empty path', () => {
    for (const p of ['etc/passwd', './etc/passwd', '']) {
      assert.throws(() => decodeObservation({ p: Buffer.from(p).toString('base64'), c: 511 }), /absolute/, JSON.stringify(p));
    }
  });
  it('refuses a path holding a NUL byte, which would alias another path in the baseline', () => {
    const paths = [
      Buffer.from('/etc\0passwd'), // the baseline key maps '/' to NUL: this would be /etc/passwd
      Buffer.from('/etc/passwd\0'),
      Buffer.from('/\0'),
      Buffer.concat([Buffer.from('/srv/'), Buffer.from([0xff, 0x00, 0xfe])]),
    ];
    for (const path of paths) {
      const deletion = { p: path.toString('base64'), c: 511 };
      assert.throws(
        () => decodeObservation(deletion),
        { name: 'DecodeError', code: 'MALFORMED_INPUT', message: 'observation path contains a NUL byte' },
        JSON.stringify(path.toString('latin1')),
      );
      // With a state too, and when the state names the same path: refused before the state is looked at.
      const withState = encodeObservation({ path, current: fileState({ path }), checks: CHECK_ALL, inBaseline: true });
      assert.throws(() => decodeObservation(withState), { name: 'DecodeError', code: 'MALFORMED_INPUT', message: 'observation path contains a NUL byte' });
    }
  });
  it('still accepts bytes other than NUL, down to 0x01', () => {
    const path = Buffer.from([0x2f, 0x01, 0x02, 0x7f, 0x80, 0xff]);
    assert.deepEqual(decodeObservation({ p: path.toString('base64'), c: 0 }).path, path);
  });
  it('refuses a state whose path is not the observation path', () => {
    const wire = encodeObservation({ path: Buffer.from('/etc/shadow'), current: fileState(), checks: CHECK_ALL, inBaseline: true });
    assert.throws(() => decodeObservation(wire), /differ/);
  });
  it('refuses a malformed state', () => {
    const wire = encodeObservation({ path: Buffer.from('/etc/hosts'), current: fileState(), checks: CHECK_ALL, inBaseline: true });
    assert.throws(() => decodeObservation({ ...wire, s: { ...(wire.s as object), t: 'pipe' } }), DecodeError);
    assert.throws(() => decodeObservation({ ...wire, s: 'not a state' }), DecodeError);
  });
});

describe('BatchRequest', () => {
  const observation = encodeObservation({ path: Buffer.from('/etc/hosts'), current: fileState(), checks: CHECK_ALL, inBaseline: true });
  const valid = {
    agentId: '001',
    seq: 1,
    scan: { id: 'scan-1', full: true, first: true },
    observations: [observation],
    end: { id: 'scan-1', full: true, digest: 'a'.repeat(64), entries: 1, durationMs: 12.5 },
  };
  const refused = (body: unknown, why: string): void => assert.equal(BatchRequest.safeParse(body).success, false, why);

  it('accepts a well-formed batch (and one with no observations)', () => {
    const parsed = BatchRequest.safeParse(JSON.parse(JSON.stringify(valid)));
    assert.ok(parsed.success, parsed.error?.message);
    assert.deepEqual(parsed.data, JSON.parse(JSON.stringify(valid)));
    assert.ok(BatchRequest.safeParse({ agentId: '123456789', seq: 42, observations: [], notice: 'outbox-overflow' }).success);
  });
  it('refuses unknown keys at every level', () => {
    refused({ ...valid, admin: true }, 'top level');
    refused({ ...valid, observations: [{ ...observation, x: 1 }] }, 'observation');
    refused({ ...valid, scan: { ...valid.scan, extra: 1 } }, 'scan');
    refused({ ...valid, end: { ...valid.end, extra: 1 } }, 'end');
  });
  it('refuses a path that is not base64', () => {
    for (const p of ['/etc/host.conf', 'L2V0Yy9ob3N0cw==!', 'L2V0_y9-b3N0cw', 'L2V0Yy9ob3N0c===', 'L2=V0']) {
      refused({ ...valid, observations: [{ ...observation, p }] }, p);
    }
  });
  it('carries the directories a scan found nothing to scan in, as absolute paths with a one-line reason', () => {
    const unscannable = [{ p: Buffer.from('/srv/www').toString('base64'), reason: 'it does not exist' }];
    const parsed = BatchRequest.safeParse({ ...valid, end: { ...valid.end, unscannable } });
    assert.ok(parsed.success, parsed.error?.message);
    assert.deepEqual(parsed.data.end?.unscannable, unscannable);
    refused({ ...valid, end: { ...valid.end, unscannable: [{ ...unscannable[0], reason: 'gone\n** Alert 1.2: forged' }] } }, 'a newline in the reason');
    refused({ ...valid, end: { ...valid.end, unscannable: [{ ...unscannable[0], reason: '' }] } }, 'no reason');
    refused({ ...valid, end: { ...valid.end, unscannable: [{ ...unscannable[0], p: Buffer.from('srv').toString('base64') }] } }, 'a relative path');
    refused({ ...valid, end: { ...valid.end, unscannable: [{ ...unscannable[0], extra: 1 }] } }, 'an unknown key');
    refused({ ...valid, end: { ...valid.end, unscannable: Array.from({ length: 257 }, () => unscannable[0]) } }, '257 directories');
  });
  it('refuses sequence 0, negative and fractional sequences', () => {
    for (const seq of [0, -1, 1.5, '1']) refused({ ...valid, seq }, String(seq));
    assert.ok(BatchRequest.safeParse({ ...valid, seq: 1 }).success);
  });
  it('takes at most 5000 observations', () => {
    assert.ok(BatchRequest.safeParse({ ...valid, observations: Array.from({ length: 5000 }, () => observation) }).success);
    refused({ ...valid, observations: Array.from({ length: 5001 }, () => observation) }, '5001');
  });
  it('refuses check masks outside 9 bits, bad agent ids, bad digests and unknown notices', () => {
    refused({ ...valid, observations: [{ ...observation, c: 32768 }] }, 'c 32768');
    refused({ ...valid, observations: [{ ...observation, c: -1 }] }, 'c -1');
    refused({ ...valid, agentId: '01' }, 'agent id too short');
    refused({ ...valid, agentId: '../1' }, 'agent id not digits');
    refused({ ...valid, end: { ...valid.end, digest: 'A'.repeat(64) } }, 'uppercase digest');
    refused({ ...valid, notice: 'hello' }, 'notice');
    refused({ agentId: '001', seq: 1 }, 'no observations');
  });
});

describe('continuity on the wire', () => {
  const csr = `-----BEGIN CERTIFICATE REQUEST-----\n${'A'.repeat(120)}\n-----END CERTIFICATE REQUEST-----\n`;
  const enroll = { token: 'cst1.0123456789ab.secret', name: 'web-1', csr };

  it('an enrolment may carry a machine id hash, an agent to replace and leave to share a name; nothing malformed', () => {
    assert.ok(EnrollRequest.safeParse({ ...enroll, machineId: 'f'.repeat(64), replace: '001', allowDuplicateName: true }).success);
    assert.ok(EnrollRequest.safeParse(enroll).success, 'all optional: older agents keep enrolling');
    for (const [key, value] of [
      ['machineId', 'F'.repeat(64)],
      ['machineId', 'f'.repeat(32)],
      ['replace', '../001'],
      ['replace', '1'],
      ['allowDuplicateName', 'yes'],
    ] as const) {
      assert.equal(EnrollRequest.safeParse({ ...enroll, [key]: value }).success, false, `${key} ${value}`);
    }
  });

  it('a scan end may list its directories as base64 paths', () => {
    const end = { id: 's', full: false, digest: 'a'.repeat(64), entries: 0, durationMs: 1 };
    const batch = (roots: unknown): unknown => ({ agentId: '001', seq: 1, observations: [], end: { ...end, roots } });
    assert.ok(BatchRequest.safeParse(batch([Buffer.from('/etc').toString('base64')])).success);
    assert.ok(BatchRequest.safeParse(batch([])).success);
    assert.equal(BatchRequest.safeParse(batch(['/etc is not base64'])).success, false);
    assert.equal(BatchRequest.safeParse(batch(Array.from({ length: 4097 }, () => 'L2V0Yw=='))).success, false);
  });

  it('a keep-alive says how far the agent numbered and what it holds; an answer says duplicate or state lost', () => {
    assert.ok(KeepaliveRequest.safeParse({}).success, 'older agents send an empty body');
    assert.ok(KeepaliveRequest.safeParse({ seq: 0, pending: 3 }).success);
    for (const body of [{ seq: -1 }, { seq: 1.5 }, { pending: '3' }, { seq: 1, extra: true }])
      assert.equal(KeepaliveRequest.safeParse(body).success, false, JSON.stringify(body));
    assert.ok(BatchResponse.safeParse({ ack: 7, duplicate: true }).success);
    assert.ok(BatchResponse.safeParse({ ack: 7, stateLost: true, error: 'behind' }).success);
  });
});
