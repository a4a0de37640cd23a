import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentInfo } from '../storage/store.js';
import { decideEnrollmentIdentity } from './enrollment-identity.js';

const MACHINE_A = 'a'.repeat(64);
const MACHINE_B = 'b'.repeat(64);
const agents: AgentInfo[] = [
  { id: '000', name: 'standalone' },
  { id: '001', name: 'web-1', machineId: MACHINE_A },
  { id: '002', name: 'db-1', machineId: MACHINE_B, revokedAt: '2026-11-01T00:00:00.000Z' },
  { id: '003', name: 'old-agent' },
];

describe('decideEnrollmentIdentity', () => {
  it('the same machine under the same name takes its agent over', () => {
    const d = decideEnrollmentIdentity(agents, { name: 'web-1', machineId: MACHINE_A });
    assert.equal(d.kind, 'inherit');
    assert.equal(d.kind === 'inherit' ? d.agent.id : '', '001');
  });

  it('the same machine under another name is refused, pointing at rename and --replace', () => {
    const d = decideEnrollmentIdentity(agents, { name: 'web-2', machineId: MACHINE_A });
    assert.deepEqual(d.kind, 'refuse');
    assert.match(d.kind === 'refuse' ? d.why : '', /already enrolled as agent 001 \(web-1\): rename it with `custos manager rename 001 web-2`.*--replace 001/);
  });

  it('--replace takes over the named agent, even under another name and from another machine', () => {
    const d = decideEnrollmentIdentity(agents, { name: 'web-1b', machineId: 'c'.repeat(64), replace: '001' });
    assert.equal(d.kind === 'inherit' ? d.agent.id : d.kind, '001');
    const legacy = decideEnrollmentIdentity(agents, { name: 'old-agent', replace: '003' });
    assert.equal(legacy.kind === 'inherit' ? legacy.agent.id : legacy.kind, '003');
  });

  it('refuses to replace an unknown, a revoked or the standalone agent', () => {
    for (const [replace, why] of [
      ['009', /no agent 009/],
      ['002', /agent 002 was revoked/],
      ['000', /no agent 000/],
    ] as const) {
      const d = decideEnrollmentIdentity(agents, { name: 'x', replace });
      assert.equal(d.kind, 'refuse');
      assert.match(d.kind === 'refuse' ? d.why : '', why);
    }
  });

  it("refuses a name another live agent has unless asked; a revoked agent's name is free", () => {
    const clash = decideEnrollmentIdentity(agents, { name: 'web-1', machineId: 'c'.repeat(64) });
    assert.match(clash.kind === 'refuse' ? clash.why : '', /an agent named web-1 is already enrolled \(agent 001\): use --replace 001/);
    assert.equal(decideEnrollmentIdentity(agents, { name: 'web-1', machineId: 'c'.repeat(64), allowDuplicateName: true }).kind, 'new');
    assert.equal(decideEnrollmentIdentity(agents, { name: 'db-1', machineId: 'c'.repeat(64) }).kind, 'new');
    // A revoked agent's machine enrolling again is a new agent: a revoked identity is never taken over silently.
    assert.equal(decideEnrollmentIdentity(agents, { name: 'db-1', machineId: MACHINE_B }).kind, 'new');
  });

  it('--replace with a name another agent has is refused unless asked', () => {
    const d = decideEnrollmentIdentity(agents, { name: 'old-agent', replace: '001' });
    assert.match(d.kind === 'refuse' ? d.why : '', /already enrolled \(agent 003\)/);
  });
});
