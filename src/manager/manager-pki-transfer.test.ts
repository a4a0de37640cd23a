import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/support/temp-dir.js';
import { ensureManagerPki } from './manager-pki.js';
import { exportCaBundle, importCaBundle } from './manager-pki-transfer.js';

const mode = (file: string): number => statSync(file).mode & 0o777;

describe('sharing the CA between managers', () => {
  it('exports the CA owner-only, and imports it with a server certificate of the importing manager signed by it', async () => {
    const dir = tempDir();
    const first = await ensureManagerPki(join(dir, 'm1'));
    const bundle = join(dir, 'ca.pem');
    assert.equal(exportCaBundle(join(dir, 'm1'), bundle).caSha256, first.caSha256);
    assert.equal(mode(bundle), 0o600);
    assert.throws(
      () => exportCaBundle(join(dir, 'm1'), bundle),
      (e: Error & { code?: string }) => e.code === 'USAGE' && /not overwriting/.test(e.message),
    );

    const imported = await importCaBundle(join(dir, 'm2'), bundle, ['m2.example.net']);
    assert.equal(imported.caSha256, first.caSha256);
    const server = new X509Certificate(readFileSync(join(dir, 'm2', 'pki', 'server.crt')));
    assert.ok(server.verify(new X509Certificate(first.caCert).publicKey), 'signed by the shared CA');
    assert.match(server.subjectAltName ?? '', /DNS:m2\.example\.net/);
    assert.notEqual(readFileSync(join(dir, 'm2', 'pki', 'server.key'), 'utf8'), first.serverKey);
    assert.equal(mode(join(dir, 'm2', 'pki', 'ca.key')), 0o600);
    assert.equal(mode(join(dir, 'm2', 'pki', 'server.key')), 0o600);
    // The same CA again: nothing changes.
    const before = readFileSync(join(dir, 'm2', 'pki', 'server.crt'), 'utf8');
    await importCaBundle(join(dir, 'm2'), bundle);
    assert.equal(readFileSync(join(dir, 'm2', 'pki', 'server.crt'), 'utf8'), before);
  });

  it('refuses a readable bundle, a bundle that is not a CA with its key, and a directory holding another CA', async () => {
    const dir = tempDir();
    await ensureManagerPki(join(dir, 'm1'));
    const other = await ensureManagerPki(join(dir, 'other'));
    const bundle = join(dir, 'ca.pem');
    exportCaBundle(join(dir, 'm1'), bundle);
    const refused = (code: string, message: RegExp) => (e: Error & { code?: string }) =>
      e.code === code && message.test(e.message) && !/PRIVATE KEY/.test(e.message);

    chmodSync(bundle, 0o644);
    await assert.rejects(importCaBundle(join(dir, 'm2'), bundle), refused('USAGE', /others may read it/));
    chmodSync(bundle, 0o600);
    await assert.rejects(importCaBundle(join(dir, 'other'), bundle), refused('USAGE', /already holds another CA/));

    const serverAsCa = join(dir, 'server.pem');
    writeFileSync(serverAsCa, `${other.serverCert}${other.serverKey}`, { mode: 0o600 });
    await assert.rejects(importCaBundle(join(dir, 'm3'), serverAsCa), refused('USAGE', /not a CA/));
    const mismatched = join(dir, 'mismatched.pem');
    writeFileSync(mismatched, `${readFileSync(join(dir, 'm1', 'pki', 'ca.crt'), 'utf8')}${other.serverKey}`, { mode: 0o600 });
    await assert.rejects(importCaBundle(join(dir, 'm4'), mismatched), refused('USAGE', /not the certificate's/));
    const notPem = join(dir, 'junk.pem');
    writeFileSync(notPem, 'hello\n', { mode: 0o600 });
    await assert.rejects(importCaBundle(join(dir, 'm5'), notPem), refused('USAGE', /not a CA bundle/));
  });
});
