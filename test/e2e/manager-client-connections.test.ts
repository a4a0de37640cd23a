import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { after, before, describe, it } from 'node:test';
import { callManager, type ManagerEndpoint } from '../../src/agent/manager-client.js';
import { releaseHeap } from '../../src/agent/release-memory.js';
import { ensureManagerPki, signAgentCsr, type ManagerPki } from '../../src/manager/manager-pki.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The agent's keep-alive connections over real mutual TLS: small requests share one connection, and the connection
 * a large body went over (a package report, a batch with content) is closed after the answer, so the TLS buffer
 * that held its ciphertext does not stay in an idle agent.
 */
describe('manager client connections', () => {
  let pki: ManagerPki;
  let server: Server;
  let url: string;
  let endpoint: ManagerEndpoint;
  const connections: { closed: boolean }[] = [];

  before(async () => {
    const dir = tempDir('custos-client-conn-');
    pki = await ensureManagerPki(dir);
    const key = join(dir, 'agent.key');
    const csr = execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-subj', '/CN=a'], {
      encoding: 'utf8',
    });
    const cert = await signAgentCsr(pki, csr, 'agent-1');
    server = createServer({ key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert, requestCert: true, minVersion: 'TLSv1.3' }, (req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      const answer = (): void => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes }));
      req.on('end', () => (req.url === '/slow' ? setTimeout(answer, 500) : answer()));
    });
    server.on('secureConnection', (socket) => {
      const seen = { closed: false };
      connections.push(seen);
      socket.on('close', () => (seen.closed = true));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(typeof address === 'object' && address !== null);
    url = `https://127.0.0.1:${address.port}`;
    endpoint = { url, ca: pki.caCert, cert, key: readFileSync(key, 'utf8') };
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('keeps one connection for small requests and closes the one a large body went over', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await callManager(endpoint, 'POST', '/v1/batches', { n: i })).status, 200);
    assert.equal(connections.length, 1, 'small requests reuse the keep-alive connection');
    const rows = Array.from({ length: 6000 }, (_, i) => ({ path: `/usr/share/doc/p${i}/changelog.Debian.gz`, md5: 'a'.repeat(32), pad: 'x'.repeat(200) }));
    const large = await callManager(endpoint, 'POST', '/v1/packages', { rows });
    assert.equal(large.status, 200);
    assert.ok((large.body as { bytes: number }).bytes > 1 << 20, 'the body is above the large-body bound');
    // It went over the kept connection, which is closed after the answer (the server sees it go) ...
    for (let i = 0; i < 50 && connections[0]?.closed !== true; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(connections[0]?.closed, true, "the large body's connection is closed after the answer");
    // ... and the next request opens a new one, kept again.
    assert.equal((await callManager(endpoint, 'GET', '/v1/config')).status, 200);
    assert.equal((await callManager(endpoint, 'GET', '/v1/config')).status, 200);
    assert.equal(connections.length, 2);
    assert.equal(connections[1]?.closed, false);
  });

  it('keeps no request body once its answer is in, though the connections opened with its options live on', async () => {
    // Node's https.Agent opens the connection for a queued request with the options of the connection that just
    // closed, so a connection kept alive can hold the options, and so the request, of another one long gone:
    // R1 opens X; R2, a large body, goes over X, which closes after it; R4, queued behind R2 and the slow R3,
    // gets a new connection opened with X's (R1's) options. R1 holds X, and X the last request it carried, R2.
    const rows = Array.from({ length: 30_000 }, (_, i) => ({ path: `/usr/share/doc/p${i}/changelog.Debian.gz`, md5: 'a'.repeat(32), pad: 'x'.repeat(200) }));
    const heapUsed = async (): Promise<number> => {
      // Let closed connections go (their close events) before the heap is measured.
      await new Promise((resolve) => setTimeout(resolve, 200));
      releaseHeap();
      return getHeapStatistics().used_heap_size;
    };
    const pooled = { ...endpoint };
    assert.equal((await callManager(pooled, 'POST', '/v1/keepalive', {})).status, 200);
    const before = await heapUsed();
    const answers = await Promise.all([
      callManager(pooled, 'POST', '/v1/packages', { rows }),
      callManager(pooled, 'GET', '/slow'),
      callManager(pooled, 'POST', '/v1/keepalive', {}),
    ]);
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200],
    );
    const heldMb = ((await heapUsed()) - before) / 2 ** 20;
    const bodyMb = JSON.stringify({ rows }).length / 2 ** 20;
    assert.ok(heldMb < bodyMb / 4, `${heldMb.toFixed(1)} MB more heap held after a ${bodyMb.toFixed(1)} MB request was answered`);
  });
});
