import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { activeManagerUrl, callManager, ManagerUnreachable, type ManagerEndpoint } from '../../src/agent/manager-client.js';
import { ensureManagerPki, type ManagerPki } from '../../src/manager/manager-pki.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The agent's manager client over real TLS sockets: which answers make it move to the next manager (unreachable,
 * 502/503/504) and which are the fleet's answer and stay (any other status), and that it stays with the manager
 * that answered.
 */

let pki: ManagerPki;
const servers: Server[] = [];

async function serve(status: number, name: string): Promise<string> {
  const server = createServer({ key: pki.serverKey, cert: pki.serverCert, minVersion: 'TLSv1.3' }, (req, res) => {
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ name }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);
  return `https://127.0.0.1:${address.port}`;
}

/** A port that refuses connections: a server started and stopped. */
async function refused(): Promise<string> {
  const url = await serve(200, 'gone');
  const server = servers.pop();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  return url;
}

describe('manager client failover', () => {
  before(async () => {
    pki = await ensureManagerPki(tempDir('custos-client-pki-'));
  });
  after(() => {
    for (const server of servers) server.close();
  });

  it('passes over a refused connection and a 503, and stays with the manager that answered', async () => {
    const down = await refused();
    const busy = await serve(503, 'busy');
    const live = await serve(200, 'live');
    const moves: [string, string][] = [];
    const endpoint: ManagerEndpoint = { url: down, alternates: [busy, live], ca: pki.caCert, onFailover: (from, to) => moves.push([from, to]) };
    const reply = await callManager(endpoint, 'GET', '/v1/config');
    assert.deepEqual(reply.body, { name: 'live' });
    assert.equal(activeManagerUrl(endpoint), live);
    assert.deepEqual(moves, [[down, live]]);
    // The next call starts with the live one: no new failover.
    await callManager(endpoint, 'GET', '/v1/config');
    assert.equal(moves.length, 1);
  });

  it("does not move on a status that is the fleet's answer (409)", async () => {
    const conflict = await serve(409, 'conflict');
    const other = await serve(200, 'other');
    const endpoint: ManagerEndpoint = { url: conflict, alternates: [other], ca: pki.caCert };
    const reply = await callManager(endpoint, 'POST', '/v1/batches', { seq: 1 });
    assert.equal(reply.status, 409);
    assert.equal(activeManagerUrl(endpoint), conflict);
  });

  it('fails with every manager named when none answers; the last 503 is returned as an answer', async () => {
    const a = await refused();
    const b = await refused();
    await assert.rejects(callManager({ url: a, alternates: [b], ca: pki.caCert }, 'GET', '/v1/config'), (error: unknown) => {
      assert.ok(error instanceof ManagerUnreachable);
      assert.match(error.message, new RegExp(`no manager answered \\(${a.replaceAll('.', '\\.')}, ${b.replaceAll('.', '\\.')}\\)`));
      return true;
    });
    const busy = await serve(503, 'busy');
    const reply = await callManager({ url: a, alternates: [busy], ca: pki.caCert }, 'GET', '/v1/config');
    assert.equal(reply.status, 503);
  });

  it('refuses a manager whose certificate does not chain to the pinned CA, and moves on', async () => {
    const stranger = await ensureManagerPki(tempDir('custos-client-stranger-'));
    const server = createServer({ key: stranger.serverKey, cert: stranger.serverCert, minVersion: 'TLSv1.3' }, (_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const address = server.address();
    assert.ok(typeof address === 'object' && address !== null);
    const live = await serve(200, 'live');
    const reply = await callManager({ url: `https://127.0.0.1:${address.port}`, alternates: [live], ca: pki.caCert }, 'GET', '/v1/config');
    assert.deepEqual(reply.body, { name: 'live' });
  });
});
