import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { CustosError } from '../core/custos-error.js';
import { ensureDirectory } from '../platform/ensure-directory.js';
import { runProgram } from '../platform/run-program.js';

/** The manager's private CA and its server certificate, created on first start. */
export interface ManagerPki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** SHA-256 of the CA certificate (hex): what enrollment tokens pin. */
  readonly caSha256: string;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Loads the manager's PKI from `DATA/pki`, creating it the first time: a CA (10 years) and a server certificate
 * for every name and address of this host plus `extraNames`. Keys are owner-only. Uses the system's `openssl`.
 */
export async function ensureManagerPki(dataDir: string, extraNames: readonly string[] = []): Promise<ManagerPki> {
  const dir = join(dataDir, 'pki');
  ensureDirectory(dir);
  const file = (name: string): string => join(dir, name);
  if (!existsSync(file('ca.crt')) || !existsSync(file('ca.key'))) {
    await openssl([
      'req',
      '-x509',
      ...EC,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.crt'),
      '-days',
      '3650',
      '-subj',
      `/CN=Custos manager CA ${randomBytes(4).toString('hex')}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
  }
  if (!existsSync(file('server.crt')) || !existsSync(file('server.key'))) {
    await openssl(['req', '-new', ...EC, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=custos-manager']);
    const names = new Set(['localhost', hostname(), ...extraNames]);
    const ips = new Set(['127.0.0.1', '::1', ...Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address))]);
    const san = [...[...names].filter((n) => /^[A-Za-z0-9.-]+$/.test(n)).map((n) => `DNS:${n}`), ...[...ips].map((ip) => `IP:${ip.replace(/%.*$/, '')}`)].join(
      ',',
    );
    writeFileSync(file('server.ext'), `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
    await openssl([
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '825',
      '-extfile',
      file('server.ext'),
      '-out',
      file('server.crt'),
    ]);
    rmSync(file('server.csr'), { force: true });
  }
  for (const key of ['ca.key', 'server.key']) chmodSync(file(key), 0o600);
  const caCert = readFileSync(file('ca.crt'), 'utf8');
  return {
    dir,
    caCert,
    serverCert: readFileSync(file('server.crt'), 'utf8'),
    serverKey: readFileSync(file('server.key'), 'utf8'),
    caSha256: certSha256(caCert),
  };
}

/**
 * Signs an agent's certificate request with the CA. The CSR's own subject is ignored: the certificate's subject
 * is the agent id the manager assigned, which is what every later request is checked against.
 */
/**
 * Checks that a certificate request parses and is signed by its own key, before anything is spent on it: an
 * enrollment with a malformed request must not use up its token or leave an agent without a certificate.
 */
export async function verifyAgentCsr(pki: ManagerPki, csr: string): Promise<boolean> {
  const work = join(pki.dir, `csr-${randomBytes(6).toString('hex')}.csr`);
  try {
    writeFileSync(work, csr, { mode: 0o600 });
    return (await runProgram('openssl', ['req', '-verify', '-noout', '-in', work])).code === 0;
  } finally {
    rmSync(work, { force: true });
  }
}

export async function signAgentCsr(pki: ManagerPki, csr: string, agentId: string): Promise<string> {
  const work = join(pki.dir, `csr-${randomBytes(6).toString('hex')}`);
  try {
    writeFileSync(`${work}.csr`, csr, { mode: 0o600 });
    const verify = await runProgram('openssl', ['req', '-verify', '-noout', '-in', `${work}.csr`]);
    if (verify.code !== 0) throw new CustosError('USAGE', 'the certificate request does not verify');
    writeFileSync(`${work}.ext`, 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
    await openssl([
      'x509',
      '-req',
      '-in',
      `${work}.csr`,
      '-CA',
      join(pki.dir, 'ca.crt'),
      '-CAkey',
      join(pki.dir, 'ca.key'),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '825',
      '-subj',
      `/CN=${agentId}`,
      '-extfile',
      `${work}.ext`,
      '-out',
      `${work}.crt`,
    ]);
    return readFileSync(`${work}.crt`, 'utf8');
  } finally {
    for (const ext of ['.csr', '.ext', '.crt']) rmSync(`${work}${ext}`, { force: true });
  }
}

/** SHA-256 of a PEM certificate's DER bytes, lower-case hex without colons. */
export function certSha256(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
}

async function openssl(args: readonly string[]): Promise<void> {
  const r = await runProgram('openssl', args);
  if (r.code !== 0) throw new CustosError('STORE_FAILED', `openssl ${args[0] ?? ''} failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
}
