import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { sampleAlerts } from '../../../test/support/alerts.js';
import { tempDir } from '../../../test/support/temp-dir.js';
import type { AnyAlert } from '../../core/build-alert.js';
import { formatRfc5424, SyslogAlertSink } from './syslog-alert-sink.js';
import { siblingModule } from '../../platform/package-root.js';

const alerts = sampleAlerts();
const HEADER = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (.*)$/s;

/** Checks one message against RFC 5424 and returns what it carries. */
function parseRfc5424(message: string): { pri: number; alert: unknown } {
  const m = HEADER.exec(message);
  assert.ok(m, `not RFC 5424: ${message.slice(0, 120)}`);
  const [, pri, timestamp, host, app, procid, msgid, sd, msg] = m as unknown as string[];
  assert.match(timestamp!, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/, 'RFC 3339 timestamp');
  assert.equal(host, hostname());
  assert.equal(app, 'custos');
  assert.equal(procid, String(process.pid));
  assert.match(msgid!, /^rule\d+$/);
  assert.ok(msgid!.length <= 32, 'MSGID is at most 32 characters');
  assert.equal(sd, '-', 'no structured data');
  for (const field of [host, app, procid, msgid!]) assert.match(field, /^[\x21-\x7e]+$/, 'header fields are printable US-ASCII');
  assert.ok(!msg!.includes('\n'), 'one message is one line');
  return { pri: Number(pri), alert: JSON.parse(msg!) };
}

/** The alert as the receiver should get it: its JSON. */
const asJson = (alert: AnyAlert): unknown => JSON.parse(JSON.stringify(alert));

/** RFC 6587 octet counting: `LEN SP MSG`, LEN counting bytes. Returns whole frames and what is left over. */
function takeFrames(buf: Buffer): { frames: string[]; rest: Buffer } {
  const frames: string[] = [];
  let pos = 0;
  for (;;) {
    const sp = buf.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = buf.toString('latin1', pos, sp);
    assert.match(len, /^[1-9]\d{0,8}$/, `octet count at byte ${pos}`);
    const end = sp + 1 + Number(len);
    if (end > buf.length) break;
    frames.push(buf.toString('utf8', sp + 1, end));
    pos = end;
  }
  return { frames, rest: buf.subarray(pos) };
}

/** Collects octet-counted frames from every connection a stream server accepts. */
function frameCollector(): { onConnection: (socket: Socket) => void; frames: string[]; until: (n: number) => Promise<string[]>; ended: Promise<void> } {
  const frames: string[] = [];
  const waiters: { n: number; resolve: (f: string[]) => void }[] = [];
  let endResolve: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (endResolve = resolve));
  const check = (): void => {
    for (const w of [...waiters]) {
      if (frames.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(frames.slice(0, w.n));
      }
    }
  };
  return {
    frames,
    ended,
    onConnection: (socket) => {
      let pending: Buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        const { frames: got, rest } = takeFrames(Buffer.concat([pending, chunk]));
        pending = rest;
        frames.push(...got);
        check();
      });
      socket.on('end', () => {
        assert.equal(pending.length, 0, 'the stream ended on a frame boundary');
        endResolve();
      });
    },
    until: (n) =>
      new Promise((resolve) => {
        waiters.push({ n, resolve });
        check();
      }),
  };
}

async function listen(server: Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve, reject) => server.close((error) => (error === undefined ? resolve() : reject(error))));
}

/** A log that remembers lines and lets a test wait for one. */
function recordingLog(): { lines: string[]; log: (line: string) => void; next: () => Promise<string> } {
  const lines: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  return {
    lines,
    log: (line) => {
      lines.push(line);
      const w = waiting;
      waiting = undefined;
      w?.(line);
    },
    next: () => new Promise((resolve) => (waiting = resolve)),
  };
}

/** Resolves as `promise` does, or fails the test after `ms` instead of hanging it. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}
/** What a child process that writes to a sink and closes it reports, and how long it lived on after its close resolved. */
/** What a child process that writes to a sink and closes it reports, and how long the whole process lived. */
interface ChildRun {
  readonly code: number | null;
  readonly stderr: string;
  readonly report?: { closeMs: number; lines: string[] };
  readonly afterReportMs: number;
}

/**
 * Runs, in a fresh Node process, a sink that writes the sample alerts to `target` and is closed at once: the
 * process must then exit by itself (nothing the sink opened may keep it alive). Killed after 20 s.
 */
async function writeAndCloseInChild(target: object): Promise<ChildRun> {
  // The child loads modules as this test does: compiled .js in dist/, or TypeScript through the parent's loader.
  const sinkUrl = siblingModule(import.meta.url, 'syslog-alert-sink').href;
  const alertsUrl = siblingModule(import.meta.url, '../../../test/support/alerts').href;
  const script = [
    `import { SyslogAlertSink } from ${JSON.stringify(sinkUrl)};`,
    `import { sampleAlerts } from ${JSON.stringify(alertsUrl)};`,
    'const lines = [];',
    `const sink = new SyslogAlertSink(${JSON.stringify(target)}, (line) => lines.push(line));`,
    'await sink.write(sampleAlerts());',
    'const started = performance.now();',
    'await sink.close();',
    'console.log(JSON.stringify({ closeMs: performance.now() - started, lines }));',
  ].join('\n');
  const child = spawn(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  // Measured from the report (printed once close resolved), not from the spawn: a loaded machine's slow start-up
  // of Node and the TypeScript loader is not what the test is about; what the sink leaves running after close is.
  let reported: number | undefined;
  child.stdout.on('data', (d: Buffer) => {
    out.push(d);
    if (reported === undefined && d.includes(10)) reported = performance.now();
  });
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const [code] = (await once(child, 'close')) as [number | null];
  clearTimeout(timer);
  const stdout = Buffer.concat(out).toString('utf8').trim();
  return {
    code,
    stderr: Buffer.concat(err).toString('utf8'),
    ...(stdout === '' ? {} : { report: JSON.parse(stdout) as { closeMs: number; lines: string[] } }),
    afterReportMs: performance.now() - (reported ?? Number.NaN),
  };
}

describe('formatRfc5424', () => {
  it('writes <PRI>1 TIMESTAMP HOSTNAME custos PID ruleNNN - JSON', () => {
    const alert = alerts[0]!;
    const text = formatRfc5424(alert, 16);
    assert.ok(text.startsWith(`<132>1 2026-11-27T19:00:00.000Z ${hostname()} custos ${process.pid} rule550 - {`), text.slice(0, 80));
    assert.deepEqual(parseRfc5424(text).alert, asJson(alert));
  });
  it('maps rule levels to severities (>=12 critical, >=7 warning, else notice) within the facility', () => {
    const levels = alerts.map((a) => a.rule.level);
    assert.deepEqual(levels, [7, 5, 15, 12]);
    assert.deepEqual(
      alerts.map((a) => parseRfc5424(formatRfc5424(a, 16)).pri),
      [16 * 8 + 4, 16 * 8 + 5, 16 * 8 + 2, 16 * 8 + 2],
    );
    assert.deepEqual(
      alerts.map((a) => parseRfc5424(formatRfc5424(a, 4)).pri),
      [36, 37, 34, 34],
    );
    assert.equal(parseRfc5424(formatRfc5424(alerts[0]!, 23)).pri, 23 * 8 + 4);
  });
  it('keeps the escaped path and exact path_bytes of a non-UTF-8 name in the JSON', () => {
    const parsed = parseRfc5424(formatRfc5424(alerts[1]!, 16)).alert as { syscheck: { path: string; path_bytes: string } };
    assert.equal(parsed.syscheck.path, '/tmp/x\\xff\\ny');
    assert.deepEqual(Buffer.from(parsed.syscheck.path_bytes, 'base64'), Buffer.from([...Buffer.from('/tmp/x'), 0xff, 0x0a, ...Buffer.from('y')]));
  });
});

describe('SyslogAlertSink over UDP', () => {
  it('sends one datagram per alert: a bare RFC 5424 message, no octet count', async () => {
    const server = createSocket('udp4');
    server.bind(0, '127.0.0.1');
    await once(server, 'listening');
    const received: Buffer[] = [];
    const all = new Promise<void>((resolve) => {
      server.on('message', (msg) => {
        received.push(msg);
        if (received.length === alerts.length) resolve();
      });
    });
    const log = recordingLog();
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port: server.address().port, protocol: 'udp', facility: 20 }, log.log);
    await sink.write(alerts.slice(0, 2));
    await sink.write(alerts.slice(2));
    await all;
    await sink.close();
    server.close();
    // UDP may reorder in general; on loopback it does not, but compare as sets of ids to say only what is promised.
    const parsed = received.map((b) => parseRfc5424(b.toString('utf8')));
    assert.deepEqual(parsed.map((p) => (p.alert as { id: string }).id).sort(), alerts.map((a) => a.id).sort());
    for (const p of parsed) {
      const alert = alerts.find((a) => a.id === (p.alert as { id: string }).id)!;
      assert.deepEqual(p.alert, asJson(alert));
      assert.equal(p.pri >> 3, 20, 'facility');
    }
    assert.deepEqual(log.lines, []);
  });
});

describe('SyslogAlertSink over UDP: close', () => {
  it('delivers every message written right before close', async () => {
    const server = createSocket('udp4');
    server.bind(0, '127.0.0.1');
    await once(server, 'listening');
    // Few enough that loopback's receive buffer (about 90 of these by default) drops none.
    const many = Array.from({ length: 10 }, () => alerts).flat();
    const received: Buffer[] = [];
    const all = new Promise<void>((resolve) => {
      server.on('message', (msg) => {
        received.push(msg);
        if (received.length === many.length) resolve();
      });
    });
    const log = recordingLog();
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port: server.address().port, protocol: 'udp' }, log.log);
    await sink.write(many);
    await sink.close(); // no wait between: the sends are still pending
    await within(all, 2000, `${many.length} datagrams`).finally(() => server.close());
    assert.equal(received.length, many.length);
    assert.deepEqual(received.map((b) => (parseRfc5424(b.toString('utf8')).alert as { id: string }).id).sort(), many.map((a) => a.id).sort());
    assert.deepEqual(log.lines, []);
  });
  it('closes at once when nothing was sent', async () => {
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port: 9, protocol: 'udp' }, () => undefined);
    await within(sink.close(), 500, 'close');
  });
});

describe('SyslogAlertSink over TCP', () => {
  it('frames each message with its length in bytes (RFC 6587 octet counting), in order', async () => {
    const collector = frameCollector();
    const server = createTcpServer(collector.onConnection);
    const port = await listen(server);
    const log = recordingLog();
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port, protocol: 'tcp' }, log.log);
    await sink.write([alerts[0]!]); // opens the connection
    await sink.write([alerts[1]!, alerts[2]!]); // queued while connecting
    await collector.until(3);
    await sink.write([alerts[3]!]); // written on the open connection
    const frames = await collector.until(4);
    await sink.close();
    await collector.ended;
    await closeServer(server);

    assert.deepEqual(
      frames.map((f) => parseRfc5424(f).alert),
      alerts.map(asJson),
    );
    const first = Buffer.from(frames[0]!, 'utf8');
    assert.ok(first.length > frames[0]!.length, 'the café/naïve path makes bytes outnumber characters');
    assert.deepEqual(log.lines, []);
  });

  it('holds alerts while nobody listens and delivers them once the receiver is up', async () => {
    const probe = createTcpServer();
    const port = await listen(probe);
    await closeServer(probe); // now nothing listens on `port`

    const log = recordingLog();
    const failed = log.next();
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port, protocol: 'tcp' }, log.log);
    await sink.write([alerts[0]!, alerts[1]!]);
    assert.match(await failed, new RegExp(`^syslog tcp 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));

    const collector = frameCollector();
    const server = createTcpServer(collector.onConnection);
    await listen(server, port);
    const frames = await collector.until(2);
    await sink.close();
    await collector.ended;
    await closeServer(server);
    assert.deepEqual(
      frames.map((f) => parseRfc5424(f).alert),
      [asJson(alerts[0]!), asJson(alerts[1]!)],
    );
  });
});

describe('SyslogAlertSink over TCP: close', () => {
  it('sends what was written while connecting, then ends the connection', async () => {
    const collector = frameCollector();
    let serverSockets = 0;
    const server = createTcpServer((socket) => {
      serverSockets++;
      collector.onConnection(socket);
    });
    const port = await listen(server);
    const log = recordingLog();
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port, protocol: 'tcp' }, log.log);
    await sink.write(alerts); // starts connecting
    const started = performance.now();
    await sink.close(); // still connecting: close must wait, send, and end
    const closeMs = performance.now() - started;
    await within(collector.ended, 1000, 'the server sees the client end the connection');
    await closeServer(server);
    assert.deepEqual(
      collector.frames.map((f) => parseRfc5424(f).alert),
      alerts.map(asJson),
    );
    assert.equal(serverSockets, 1);
    assert.ok(closeMs < 4000, `close ended the connection itself (${Math.round(closeMs)} ms), not the 5 s fallback`);
    assert.deepEqual(log.lines, []);
  });
  it('ends an open connection after what was written last', async () => {
    const collector = frameCollector();
    const server = createTcpServer(collector.onConnection);
    const port = await listen(server);
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port, protocol: 'tcp' }, () => undefined);
    await sink.write([alerts[0]!]);
    await collector.until(1); // open now
    await sink.write(alerts.slice(1));
    await sink.close();
    await within(collector.ended, 1000, 'the client ends the connection');
    await closeServer(server);
    assert.deepEqual(
      collector.frames.map((f) => parseRfc5424(f).alert),
      alerts.map(asJson),
    );
  });
  it('resolves at once when nothing listens, and leaves nothing that keeps the process alive', { timeout: 30_000 }, async () => {
    const probe = createTcpServer();
    const port = await listen(probe);
    await closeServer(probe); // now nothing listens on `port`
    const run = await writeAndCloseInChild({ host: '127.0.0.1', port, protocol: 'tcp' });
    assert.equal(run.code, 0, `the process exited by itself: ${run.stderr}`);
    assert.ok(run.report !== undefined, run.stderr);
    assert.ok(run.report.closeMs < 2000, `close took ${Math.round(run.report.closeMs)} ms`);
    assert.ok(
      run.report.lines.some((l) => l.includes('ECONNREFUSED')),
      run.report.lines.join('\n'),
    );
    assert.ok(run.afterReportMs < 5000, `lived ${Math.round(run.afterReportMs)} ms after close resolved`);
  });
  it('resolves on a closed sink whose reconnection is waiting for its backoff', async () => {
    const probe = createTcpServer();
    const port = await listen(probe);
    await closeServer(probe);
    const log = recordingLog();
    const failed = log.next();
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port, protocol: 'tcp' }, log.log);
    await sink.write([alerts[0]!]);
    await failed;
    await within(sink.close(), 500, 'close');
    // The backoff timer (500 ms) must not reconnect a closed sink.
    const server = createTcpServer((socket) => socket.destroy());
    let connections = 0;
    server.on('connection', () => connections++);
    await listen(server, port);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await closeServer(server);
    assert.equal(connections, 0);
  });
});

describe('SyslogAlertSink over TLS', () => {
  // Node warns once per process (DEP0123) when SNI is set to an IP address; collect warnings before any connection.
  const warnings: Error[] = [];
  process.on('warning', (warning) => warnings.push(warning));

  const dir = tempDir();
  const makeCert = (name: string, subjectAltName = 'IP:127.0.0.1'): { key: string; cert: string } => {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.pem`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        `/CN=${name}`,
        '-addext',
        `subjectAltName=${subjectAltName}`,
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  };
  const server = makeCert('syslog-server');
  const stranger = makeCert('someone-else');
  const named = makeCert('localhost', 'DNS:localhost');
  const elsewhere = makeCert('syslog.example', 'DNS:syslog.example');

  it('sends octet-counted RFC 5424 messages (RFC 5425) to a server whose certificate chains to the given CA', async () => {
    const collector = frameCollector();
    const tls = createTlsServer({ key: server.key, cert: server.cert }, collector.onConnection);
    const port = await listen(tls);
    const log = recordingLog();
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port, protocol: 'tls', ca: server.cert, facility: 1 }, log.log);
    await sink.write(alerts);
    const frames = await collector.until(alerts.length);
    await sink.close();
    await collector.ended;
    await closeServer(tls);
    const parsed = frames.map(parseRfc5424);
    assert.deepEqual(
      parsed.map((p) => p.alert),
      alerts.map(asJson),
    );
    assert.deepEqual(
      parsed.map((p) => p.pri),
      [12, 13, 10, 10],
    );
    assert.deepEqual(log.lines, []);
  });

  it('sends nothing to a server whose certificate does not chain to the given CA', async () => {
    const collector = frameCollector();
    const tls = createTlsServer({ key: server.key, cert: server.cert }, collector.onConnection);
    const handshakeFailed = once(tls, 'tlsClientError');
    const port = await listen(tls);
    const log = recordingLog();
    const failed = log.next();
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port, protocol: 'tls', ca: stranger.cert }, log.log);
    await sink.write([alerts[0]!]);
    assert.match(await failed, new RegExp(`^syslog tls 127\\.0\\.0\\.1:${port}: .*certificate`));
    await handshakeFailed;
    await sink.close();
    await closeServer(tls);
    assert.deepEqual(collector.frames, []);
  });

  it('sends what was written while the handshake runs, then ends the connection', async () => {
    const collector = frameCollector();
    const tls = createTlsServer({ key: server.key, cert: server.cert }, collector.onConnection);
    const port = await listen(tls);
    const log = recordingLog();
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port, protocol: 'tls', ca: server.cert }, log.log);
    await sink.write(alerts);
    await sink.close();
    await within(collector.ended, 1000, 'the server sees the client end the connection');
    await closeServer(tls);
    assert.deepEqual(
      collector.frames.map((f) => parseRfc5424(f).alert),
      alerts.map(asJson),
    );
    assert.deepEqual(log.lines, []);
  });

  it('sends no SNI for an IP address (no DEP0123 warning), and checks the certificate against the IP', async () => {
    const names: (string | false)[] = [];
    const tls = createTlsServer({ key: server.key, cert: server.cert }, (socket: TLSSocket) => {
      names.push(socket.servername ?? false);
      socket.resume();
    });
    const port = await listen(tls);
    const sink = new SyslogAlertSink({ host: '127.0.0.1', port, protocol: 'tls', ca: server.cert }, () => undefined);
    await sink.write([alerts[0]!]);
    await sink.close();
    await closeServer(tls);
    assert.deepEqual(names, [false]);
    assert.deepEqual(
      warnings.filter((w) => (w as Error & { code?: string }).code === 'DEP0123'),
      [],
    );

    // A certificate for a host name only does not do for 127.0.0.1.
    const wrong = createTlsServer({ key: elsewhere.key, cert: elsewhere.cert }, (socket) => socket.resume());
    const wrongPort = await listen(wrong);
    const log = recordingLog();
    const failed = log.next();
    const refused = new SyslogAlertSink({ host: '127.0.0.1', port: wrongPort, protocol: 'tls', ca: elsewhere.cert }, log.log);
    await refused.write([alerts[0]!]);
    assert.match(await failed, /IP: 127\.0\.0\.1 is not in the cert's list/);
    await refused.close();
    await closeServer(wrong);
  });

  it('sends SNI for a host name', async () => {
    const names: (string | false)[] = [];
    const collector = frameCollector();
    const tls = createTlsServer({ key: named.key, cert: named.cert }, (socket: TLSSocket) => {
      names.push(socket.servername ?? false);
      collector.onConnection(socket);
    });
    const port = await listen(tls);
    const log = recordingLog();
    const sink = new SyslogAlertSink({ host: 'localhost', port, protocol: 'tls', ca: named.cert }, log.log);
    await sink.write([alerts[0]!]);
    await collector.until(1);
    await sink.close();
    await closeServer(tls);
    assert.deepEqual(names, ['localhost']);
    assert.deepEqual(log.lines, []);
  });

  it('gives up on a handshake that never completes after 5 s, leaving nothing that keeps the process alive', { timeout: 30_000 }, async () => {
    // Accepts the TCP connection and never answers the ClientHello.
    const held: Socket[] = [];
    const silent = createTcpServer((socket) => {
      held.push(socket);
      socket.on('error', () => undefined);
    });
    const port = await listen(silent);
    try {
      const run = await writeAndCloseInChild({ host: '127.0.0.1', port, protocol: 'tls', ca: server.cert });
      assert.equal(run.code, 0, `the process exited by itself: ${run.stderr}`);
      assert.ok(run.report !== undefined, run.stderr);
      assert.ok(run.report.closeMs > 4500 && run.report.closeMs < 6500, `close took ${Math.round(run.report.closeMs)} ms`);
      assert.ok(run.afterReportMs < 5000, `lived ${Math.round(run.afterReportMs)} ms after close resolved`);
      assert.doesNotMatch(run.stderr, /DEP0123/);
      assert.equal(held.length, 1, 'one connection, no retry after close');
    } finally {
      for (const socket of held) socket.destroy();
      await closeServer(silent);
    }
  });
});
