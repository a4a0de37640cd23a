import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../core/custos-error.js';
import { parseEnrollmentToken } from '../protocol/enrollment-token.js';
import { EnrollResponse, hostName } from '../protocol/wire.js';
import { ensureDirectory } from '../platform/ensure-directory.js';
import { runProgram } from '../platform/run-program.js';
import { AgentState } from './agent-state.js';
import { callManager, ManagerUnreachable, pemSha256, type ManagerEndpoint } from './manager-client.js';

/** What an enrolled agent keeps in its data directory (`agent.json`, plus `agent.key`, `agent.crt`, `ca.crt`). */
export interface AgentIdentity {
  readonly agentId: string;
  readonly name: string;
  readonly managerUrl: string;
  /** The fleet's other managers, tried in order when `managerUrl` cannot be reached (see `ManagerEndpoint`). */
  readonly alternates?: readonly string[];
  readonly caSha256: string;
}

/**
 * Enrolls this host: checks the manager presents the CA the token pins (so a man in the middle gets nothing),
 * makes a key pair and certificate request locally with `openssl` (the private key never leaves the host), trades
 * the single-use token for an agent id and a client certificate, and saves it all owner-only in `dataDir`.
 */
export async function enrollAgent(options: {
  readonly managerUrl: string;
  /** More managers of the same fleet: the first that presents the token's CA takes the enrollment; all are kept. */
  readonly alternates?: readonly string[];
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
  for (const [flag, value] of [
    ['--name', options.name],
    ['--group', options.group],
  ] as const) {
    if (value !== undefined && !hostName.safeParse(value).success)
      throw new CustosError('USAGE', `${flag} "${value}": use letters, digits, dot, dash and underscore (at most 64, not starting with a dot)`);
  }
  ensureDirectory(options.dataDir);
  const { url: enrollUrl, ca } = await findTokenManager([options.managerUrl, ...(options.alternates ?? [])], token.caSha256);
  // The new key waits beside the working one until the manager has said yes: a refused enrolment (a used token,
  // a wrong name) on an enrolled data directory must leave the agent able to talk to its manager.
  const keyFile = join(options.dataDir, 'agent.key');
  const newKeyFile = join(options.dataDir, 'agent.key.new');
  const csrFile = join(options.dataDir, 'agent.csr');
  const made = await runProgram('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    newKeyFile,
    '-out',
    csrFile,
    '-subj',
    `/CN=${options.name}`,
  ]);
  if (made.code !== 0) throw new CustosError('USAGE', `cannot make a key with openssl: ${made.stderr.trim()}`);
  chmodSync(newKeyFile, 0o600);
  // The enrollment itself goes to that one manager only: a token is spent once, so it is never retried elsewhere.
  const endpoint: ManagerEndpoint = { url: enrollUrl, ca };
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
  const alternates = (options.alternates ?? []).filter((u) => u !== options.managerUrl);
  const identity: AgentIdentity = {
    agentId: response.agentId,
    name: response.name,
    managerUrl: options.managerUrl,
    ...(alternates.length === 0 ? {} : { alternates }),
    caSha256: token.caSha256,
  };
  writeFileSync(join(options.dataDir, 'agent.json'), `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  return { ...identity, inherited: response.inherited === true };
}

/**
 * The first of `urls` that answers with the CA the token pins (fetching the CA is safe to repeat; a manager that
 * cannot be reached is passed over, one that presents another CA is an error: someone else is answering there).
 */
async function findTokenManager(urls: readonly string[], caSha256: string): Promise<{ url: string; ca: string }> {
  const unreachable: string[] = [];
  for (const url of urls) {
    let reply;
    try {
      reply = await callManager({ url }, 'GET', '/v1/ca');
    } catch (error) {
      if (!(error instanceof ManagerUnreachable)) throw error;
      unreachable.push(error.message);
      continue;
    }
    let caSha: string | undefined;
    try {
      caSha = pemSha256(reply.text);
    } catch {
      caSha = undefined;
    }
    if (reply.status !== 200 || caSha !== caSha256) {
      throw new CustosError('USAGE', `the server at ${url} is not the manager this token was issued by (its CA does not match the token)`);
    }
    return { url, ca: reply.text };
  }
  throw new ManagerUnreachable(unreachable.join('; '));
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

/**
 * Loads an enrolled identity and its credentials; a clear error when this host is not enrolled. `managers`, when
 * given (from `agent start --manager` or `agent.managers`), replaces the managers recorded at enrollment: the first
 * is tried first, the others in order when it cannot be reached.
 */
export function loadAgentIdentity(dataDir: string, managers?: readonly string[]): { identity: AgentIdentity; endpoint: ManagerEndpoint } {
  try {
    const identity = JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as AgentIdentity;
    const [first, ...rest] = managers !== undefined && managers.length > 0 ? managers : [identity.managerUrl, ...(identity.alternates ?? [])];
    const endpoint: ManagerEndpoint = {
      url: first ?? identity.managerUrl,
      ...(rest.length === 0 ? {} : { alternates: rest }),
      ca: readFileSync(join(dataDir, 'ca.crt'), 'utf8'),
      cert: readFileSync(join(dataDir, 'agent.crt'), 'utf8'),
      key: readFileSync(join(dataDir, 'agent.key'), 'utf8'),
    };
    return { identity, endpoint };
  } catch (error) {
    throw new CustosError(
      'USAGE',
      `this host is not enrolled (${(error as NodeJS.ErrnoException).code ?? 'no agent.json'} in ${dataDir}); run \`custos agent enroll --manager URL --token T --data ${dataDir}\``,
    );
  }
}
