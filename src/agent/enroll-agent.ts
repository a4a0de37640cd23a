import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../core/custos-error.js';
import { parseEnrollmentToken } from '../protocol/enrollment-token.js';
import { EnrollResponse, hostName } from '../protocol/wire.js';
import { ensureDirectory } from '../platform/ensure-directory.js';
import { runProgram } from '../platform/run-program.js';
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
export async function enrollAgent(options: { readonly managerUrl: string; readonly token: string; readonly name: string; readonly group?: string; readonly dataDir: string }): Promise<AgentIdentity> {
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
  const keyFile = join(options.dataDir, 'agent.key');
  const csrFile = join(options.dataDir, 'agent.csr');
  const made = await runProgram('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${options.name}`]);
  if (made.code !== 0) throw new CustosError('USAGE', `cannot make a key with openssl: ${made.stderr.trim()}`);
  chmodSync(keyFile, 0o600);
  const endpoint: ManagerEndpoint = { url: options.managerUrl, ca };
  const reply = await callManager(endpoint, 'POST', '/v1/enroll', { token: options.token.trim(), name: options.name, ...(options.group === undefined ? {} : { group: options.group }), csr: readFileSync(csrFile, 'utf8') });
  rmSync(csrFile, { force: true });
  if (reply.status !== 200) {
    const error = (reply.body as { error?: unknown } | undefined)?.error;
    throw new CustosError('USAGE', `the manager refused the enrollment: ${typeof error === 'string' ? error : `HTTP ${reply.status}`}`);
  }
  const response = EnrollResponse.parse(reply.body);
  writeFileSync(join(options.dataDir, 'agent.crt'), response.cert, { mode: 0o644 });
  writeFileSync(join(options.dataDir, 'ca.crt'), ca, { mode: 0o644 });
  const identity: AgentIdentity = { agentId: response.agentId, name: response.name, managerUrl: options.managerUrl, caSha256: token.caSha256 };
  writeFileSync(join(options.dataDir, 'agent.json'), `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  return identity;
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
