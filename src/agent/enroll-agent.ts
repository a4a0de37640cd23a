import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../core/custos-error.js';
import { parseEnrollmentToken } from '../protocol/enrollment-token.js';
import { EnrollResponse, hostName } from '../protocol/wire.js';
import { ensureDirectory } from '../platform/ensure-directory.js';
import { runProgram } from '../platform/run-program.js';
import { AgentState } from './agent-state.js';
import { callManager, pemSha256, type ManagerEndpoint } from './manager-client.js';

/** What an enrolled agent keeps in its data directory (`agent.json`, plus `agent.key`, `agent.crt`, `ca.crt`). */
export interface AgentIdentity {
  readonly agentId: string;
  readonly name: string;
  readonly managerUrl: string;
  readonly caSha256: string;
}

/**
 * Enrolls this host: checks the manager presents the CA the token pins (so a man in the middle gets nothing),
 * makes a key pair and certificate request locally with `openssl` (the private key never leaves the host), trades
 * the single-use token for an agent id and a client certificate, and saves it all owner-only in `dataDir`.
 */
export async function enrollAgent(options: {
  readonly managerUrl: string;
  readonly token: string;
  readonly name: string;
  readonly group?: string;
  readonly dataDir: string;
  /** This host's machine id (see `readMachineId`): the same host enrolling again keeps its identity. */
  readonly machineId?: string;
  /** Take over this agent's identity and baseline (a reinstalled host). */
  readonly replace?: string;
  readonly allowDuplicateName?: boolean;
}): Promise<AgentIdentity & { readonly inherited: boolean }> {
  const token = parseEnrollmentToken(options.token);
  if (token === undefined) throw new CustosError('USAGE', 'that is not a Custos enrollment token (it starts with cst1.; get one with `custos manager token`)');
  for (const [flag, value] of [['--name', options.name], ['--group', options.group]] as const) {
    if (value !== undefined && !hostName.safeParse(value).success) throw new CustosError('USAGE', `${flag} "${value}": use letters, digits, dot, dash and underscore (at most 64, not starting with a dot)`);
  }
  ensureDirectory(options.dataDir);
  const caReply = await callManager({ url: options.managerUrl }, 'GET', '/v1/ca');
  const ca = caReply.text;
  let caSha: string | undefined;
  try {
    caSha = pemSha256(ca);
  } catch {
    caSha = undefined;
  }
  if (caReply.status !== 200 || caSha !== token.caSha256) {
    throw new CustosError('USAGE', `the server at ${options.managerUrl} is not the manager this token was issued by (its CA does not match the token)`);
  }
  // The new key waits beside the working one until the manager has said yes: a refused enrolment (a used token,
  // a wrong name) on an enrolled data directory must leave the agent able to talk to its manager.
  const keyFile = join(options.dataDir, 'agent.key');
  const newKeyFile = join(options.dataDir, 'agent.key.new');
  const csrFile = join(options.dataDir, 'agent.csr');
  const made = await runProgram('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', newKeyFile, '-out', csrFile, '-subj', `/CN=${options.name}`]);
  if (made.code !== 0) throw new CustosError('USAGE', `cannot make a key with openssl: ${made.stderr.trim()}`);
  chmodSync(newKeyFile, 0o600);
  const endpoint: ManagerEndpoint = { url: options.managerUrl, ca };
  let reply;
  try {
    reply = await callManager(endpoint, 'POST', '/v1/enroll', {
      token: options.token.trim(),
      name: options.name,
      ...(options.group === undefined ? {} : { group: options.group }),
      // Hashed with a fixed prefix, as machine-id(5) asks: the raw id is not handed to anyone.
      ...(options.machineId === undefined ? {} : { machineId: createHash('sha256').update(`custos-agent:${options.machineId}`).digest('hex') }),
      ...(options.replace === undefined ? {} : { replace: options.replace }),
      ...(options.allowDuplicateName === true ? { allowDuplicateName: true } : {}),
      csr: readFileSync(csrFile, 'utf8'),
    });
  } catch (error) {
    rmSync(newKeyFile, { force: true });
    rmSync(csrFile, { force: true });
    throw error;
  }
  rmSync(csrFile, { force: true });
  if (reply.status !== 200) rmSync(newKeyFile, { force: true });
  if (reply.status !== 200) {
    const error = (reply.body as { error?: unknown } | undefined)?.error;
    throw new CustosError('USAGE', `the manager refused the enrollment: ${typeof error === 'string' ? error : `HTTP ${reply.status}`}`);
  }
  const response = EnrollResponse.parse(reply.body);
  // A new identity starts from a new state: whatever an earlier enrolment left is not this agent's. Taking over an
  // existing agent, it numbers its batches on from what the manager applied, and its first scan (a full one) is
  // compared with that agent's baseline.
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(options.dataDir, `agent.db${suffix}`), { force: true });
  const state = AgentState.open(join(options.dataDir, 'agent.db'));
  if (response.nextSeq !== undefined) state.setMeta('next_seq', String(response.nextSeq));
  state.close();
  renameSync(newKeyFile, keyFile);
  writeFileSync(join(options.dataDir, 'agent.crt'), response.cert, { mode: 0o644 });
  writeFileSync(join(options.dataDir, 'ca.crt'), ca, { mode: 0o644 });
  const identity: AgentIdentity = { agentId: response.agentId, name: response.name, managerUrl: options.managerUrl, caSha256: token.caSha256 };
  writeFileSync(join(options.dataDir, 'agent.json'), `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  return { ...identity, inherited: response.inherited === true };
}

/**
 * This host's machine id (`/etc/machine-id`, else `/var/lib/dbus/machine-id`), or undefined when there is none.
 * `CUSTOS_MACHINE_ID_FILE` names another file: for tests, where every agent runs on one host.
 */
export function readMachineId(): string | undefined {
  const candidates = process.env.CUSTOS_MACHINE_ID_FILE === undefined ? ['/etc/machine-id', '/var/lib/dbus/machine-id'] : [process.env.CUSTOS_MACHINE_ID_FILE];
  for (const file of candidates) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (/^[0-9a-f]{32}$/i.test(id)) return id.toLowerCase();
    } catch {
      // next candidate
    }
  }
  return undefined;
}

/** Loads an enrolled identity and its credentials; a clear error when this host is not enrolled. */
export function loadAgentIdentity(dataDir: string): { identity: AgentIdentity; endpoint: ManagerEndpoint } {
  try {
    const identity = JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as AgentIdentity;
    const endpoint: ManagerEndpoint = {
      url: identity.managerUrl,
      ca: readFileSync(join(dataDir, 'ca.crt'), 'utf8'),
      cert: readFileSync(join(dataDir, 'agent.crt'), 'utf8'),
      key: readFileSync(join(dataDir, 'agent.key'), 'utf8'),
    };
    return { identity, endpoint };
  } catch (error) {
    throw new CustosError('USAGE', `this host is not enrolled (${(error as NodeJS.ErrnoException).code ?? 'no agent.json'} in ${dataDir}); run \`custos agent enroll --manager URL --token T --data ${dataDir}\``);
  }
}
