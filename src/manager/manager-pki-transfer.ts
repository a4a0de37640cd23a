import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CustosError } from '../core/custos-error.js';
import { ensureDirectory } from '../platform/ensure-directory.js';
import { certSha256, ensureManagerPki } from './manager-pki.js';

const CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/;
const KEY = /-----BEGIN (?:EC |RSA )?PRIVATE KEY-----[\s\S]+?-----END (?:EC |RSA )?PRIVATE KEY-----\n?/;

/**
 * `custos manager pki export`: the CA of this manager (certificate and private key, one PEM file, owner-only) for
 * a second manager on the same store to import, so both sign and accept the same agents. Refuses to overwrite a
 * file; the key is written only to that file, never shown. Returns the CA's SHA-256 (what tokens pin).
 */
export function exportCaBundle(dataDir: string, outFile: string): { readonly caSha256: string } {
  const dir = join(dataDir, 'pki');
  if (!existsSync(join(dir, 'ca.crt')) || !existsSync(join(dir, 'ca.key'))) {
    throw new CustosError('NOT_FOUND', `no CA in ${dir} (start the manager once to create it, or import one with custos manager pki import)`);
  }
  const cert = readFileSync(join(dir, 'ca.crt'), 'utf8');
  const key = readFileSync(join(dir, 'ca.key'), 'utf8');
  try {
    writeFileSync(outFile, `${cert.trimEnd()}\n${key.trimEnd()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CustosError('USAGE', `${outFile} exists: not overwriting it (remove it, or name another file)`);
    throw new CustosError('STORE_FAILED', `cannot write ${outFile}: ${code ?? (error as Error).message}`);
  }
  return { caSha256: certSha256(cert) };
}

/**
 * `custos manager pki import`: installs a CA exported from another manager into `DATA/pki` and issues this
 * manager's own server certificate with it (this host's names and addresses, plus `extraNames`). Importing the CA
 * already there does nothing but make the server certificate if it is missing; another CA is refused, since the
 * agents enrolled here trust the one in place. A bundle others can read is refused: it holds the CA's key.
 */
export async function importCaBundle(
  dataDir: string,
  bundleFile: string,
  extraNames: readonly string[] = [],
): Promise<{ readonly caSha256: string; readonly replacedServerCert: boolean }> {
  let text: string;
  try {
    if ((statSync(bundleFile).mode & 0o077) !== 0)
      throw new CustosError(
        'USAGE',
        `${bundleFile} holds a CA private key but others may read it: chmod 600 it first (and keep it only as long as the import)`,
      );
    text = readFileSync(bundleFile, 'utf8');
  } catch (error) {
    if (error instanceof CustosError) throw error;
    throw new CustosError('NOT_FOUND', `cannot read ${bundleFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const cert = CERT.exec(text)?.[0];
  const key = KEY.exec(text)?.[0];
  if (cert === undefined || key === undefined)
    throw new CustosError('USAGE', `${bundleFile} is not a CA bundle from custos manager pki export (a certificate and a private key in PEM)`);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
    if (!x509.ca) throw new Error('the certificate is not a CA');
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error("the private key is not the certificate's");
  } catch (error) {
    throw new CustosError('USAGE', `${bundleFile} is not a usable CA bundle: ${(error as Error).message}`);
  }
  const caSha256 = certSha256(cert);
  const dir = join(dataDir, 'pki');
  ensureDirectory(dir);
  const file = (name: string): string => join(dir, name);
  let replacedServerCert = false;
  if (existsSync(file('ca.crt'))) {
    const present = certSha256(readFileSync(file('ca.crt'), 'utf8'));
    if (present !== caSha256) {
      throw new CustosError(
        'USAGE',
        `${dir} already holds another CA (sha256 ${present}): the agents enrolled with this manager trust it. Move ${dir} away first to replace it`,
      );
    }
  } else {
    writeFileSync(file('ca.key'), key, { mode: 0o600 });
    writeFileSync(file('ca.crt'), cert, { mode: 0o644 });
    // A server certificate left from another CA would not verify for the agents of this one.
    replacedServerCert = existsSync(file('server.crt'));
    for (const name of ['server.crt', 'server.key']) rmSync(file(name), { force: true });
  }
  await ensureManagerPki(dataDir, extraNames);
  return { caSha256, replacedServerCert };
}
