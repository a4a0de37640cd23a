import type { AgentInfo } from '../storage/store.js';

/** What an enrolment asks for, as far as identity goes. */
export interface IdentityRequest {
  readonly name: string;
  /** SHA-256 of the host's machine id. */
  readonly machineId?: string;
  /** `--replace ID`: take over that agent. */
  readonly replace?: string;
  readonly allowDuplicateName?: boolean;
}

/** Who an enrolling host becomes: a new agent, an existing one (its baseline and history kept), or nobody (why). */
export type IdentityDecision =
  { readonly kind: 'new' } | { readonly kind: 'inherit'; readonly agent: AgentInfo; readonly why: string } | { readonly kind: 'refuse'; readonly why: string };

/**
 * Decides the identity of an enrolling host, so that enrolling again never opens a silent window: a host keeps its
 * identity (its baseline, against which its first scan is then compared) when it says so (`--replace ID`), or
 * when it is the same machine under the same name. The same machine under another name is refused (a rename is
 * `custos manager rename`, which keeps watching); so is a name another agent has, unless asked for.
 */
export function decideEnrollmentIdentity(agents: readonly AgentInfo[], request: IdentityRequest): IdentityDecision {
  const live = agents.filter((a) => a.id !== '000' && a.revokedAt === undefined);
  if (request.replace !== undefined) {
    const target = agents.find((a) => a.id === request.replace && a.id !== '000');
    if (target === undefined) return { kind: 'refuse', why: `there is no agent ${request.replace} to replace` };
    if (target.revokedAt !== undefined)
      return { kind: 'refuse', why: `agent ${target.id} was revoked at ${target.revokedAt}; a revoked identity is not taken over (enrol as a new agent)` };
    const clash = live.find((a) => a.name === request.name && a.id !== target.id);
    if (clash !== undefined && request.allowDuplicateName !== true) return { kind: 'refuse', why: duplicateName(clash) };
    return { kind: 'inherit', agent: target, why: 'replace' };
  }
  if (request.machineId !== undefined) {
    const same = live.find((a) => a.machineId === request.machineId);
    if (same !== undefined) {
      if (same.name === request.name) return { kind: 'inherit', agent: same, why: 'same machine' };
      return {
        kind: 'refuse',
        why: `this machine is already enrolled as agent ${same.id} (${same.name}): rename it with \`custos manager rename ${same.id} ${request.name}\` (it keeps watching), or enrol with --replace ${same.id}`,
      };
    }
  }
  const clash = live.find((a) => a.name === request.name);
  if (clash !== undefined && request.allowDuplicateName !== true) return { kind: 'refuse', why: duplicateName(clash) };
  return { kind: 'new' };
}

function duplicateName(clash: AgentInfo): string {
  return `an agent named ${clash.name} is already enrolled (agent ${clash.id}): use --replace ${clash.id} if this host replaces it, another --name, or --allow-duplicate-name`;
}
