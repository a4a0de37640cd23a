import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { sampleAlerts } from '../../../test/support/alerts.js';
import type { AnyAlert } from '../../core/build-alert.js';
import { WebhookAlertSink } from './webhook-alert-sink.js';

const alerts = sampleAlerts();
const asJson = (batch: readonly AnyAlert[]): unknown => JSON.parse(JSON.stringify({ alerts: batch }));

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: Buffer;
}

/**
 * An HTTP endpoint on 127.0.0.1 that answers each request with the next status of `statuses` (the last one
 * repeats) and lets a test wait for the n-th request.
 */
async function endpoint(
  statuses: readonly number[],
): Promise<{ server: Server; url: string; received: Received[]; until: (n: number) => Promise<Received[]> }> {
  const received: Received[] = [];
  const waiters: { n: number; resolve: (r: Received[]) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses[Math.min(received.length, statuses.length - 1)]!;
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 300 ? 'no thanks' : '');
      for (const w of waiters.filter((x) => received.length >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(received.slice(0, w.n));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    received,
    until: (n) => new Promise((resolve) => (received.length >= n ? resolve(received.slice(0, n)) : waiters.push({ n, resolve }))),
  };
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
}

describe('WebhookAlertSink', () => {
  it('POSTs {"alerts": [...]} as JSON and retries a batch the endpoint refused', async () => {
    const hook = await endpoint([500, 200]);
    const lines: string[] = [];
    const sink = new WebhookAlertSink({ url: `${hook.url}/hooks/custos?team=sec`, headers: { authorization: 'Bearer s3cret' } }, (l) => lines.push(l));
    await sink.write(alerts);
    const [failed, retried] = await hook.until(2);
    await sink.close();
    await closeServer(hook.server);

    for (const r of [failed!, retried!]) {
      assert.equal(r.method, 'POST');
      assert.equal(r.url, '/hooks/custos?team=sec');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers.authorization, 'Bearer s3cret');
      assert.equal(Number(r.headers['content-length']), r.raw.length, 'content-length counts bytes (the paths hold multi-byte UTF-8)');
      assert.deepEqual(JSON.parse(r.raw.toString('utf8')), asJson(alerts));
    }
    assert.deepEqual(retried!.raw, failed!.raw, 'the retry sends the same batch');
    assert.equal(hook.received.length, 2, 'nothing more once it was accepted');
    assert.deepEqual(lines, [], 'a retry that succeeds is not worth a log line');
  });

  it('keeps batches in order: a later batch waits behind one being retried', async () => {
    const hook = await endpoint([503, 503, 204]);
    const sink = new WebhookAlertSink({ url: `${hook.url}/in` }, () => undefined);
    await sink.write([]); // nothing to send: no request
    await sink.write([alerts[0]!]);
    await hook.until(1);
    await sink.write([alerts[1]!, alerts[2]!]);
    await sink.write([alerts[3]!]);
    const got = await hook.until(5);
    await sink.close();
    await closeServer(hook.server);
    assert.deepEqual(
      got.map((r) => JSON.parse(r.raw.toString('utf8')) as unknown),
      [asJson([alerts[0]!]), asJson([alerts[0]!]), asJson([alerts[0]!]), asJson([alerts[1]!, alerts[2]!]), asJson([alerts[3]!])],
    );
  });

  it('gives up on a failing batch once closed, logging the URL without credentials or query', async () => {
    const hook = await endpoint([500]);
    let gaveUp: (line: string) => void = () => undefined;
    const logged = new Promise<string>((resolve) => (gaveUp = resolve));
    const lines: string[] = [];
    const url = new URL(hook.url);
    url.username = 'user';
    url.password = 'hunter2';
    url.pathname = '/hook';
    url.search = '?token=abc123';
    const sink = new WebhookAlertSink({ url: url.href }, (line) => {
      lines.push(line);
      gaveUp(line);
    });
    await sink.write([alerts[0]!, alerts[1]!]);
    const [first] = await hook.until(1);
    assert.equal(first!.headers.authorization, `Basic ${Buffer.from('user:hunter2').toString('base64')}`);
    await sink.close();
    const line = await logged;
    await closeServer(hook.server);
    assert.match(line, new RegExp(`^webhook http://127\\.0\\.0\\.1:${url.port}/hook: giving up on 2 alerts after \\d attempts: HTTP 500$`));
    assert.ok(!lines.join('\n').includes('hunter2') && !lines.join('\n').includes('abc123'));
    assert.equal(lines.length, 1);
  });

  it('treats an unreachable endpoint like a refusal: retried, then given up on close', async () => {
    const hook = await endpoint([200]);
    const port = (hook.server.address() as AddressInfo).port;
    await closeServer(hook.server); // nothing listens any more
    let gaveUp: (line: string) => void = () => undefined;
    const logged = new Promise<string>((resolve) => (gaveUp = resolve));
    const sink = new WebhookAlertSink({ url: `http://127.0.0.1:${port}/x` }, (line) => gaveUp(line));
    await sink.write([alerts[3]!]);
    await sink.close();
    assert.match(await logged, /giving up on 1 alerts after \d attempts: .*ECONNREFUSED/);
  });
});
