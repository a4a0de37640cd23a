import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { hostname } from 'node:os';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AnyAlert } from '../../core/build-alert.js';
import type { AlertSink } from '../alert-sink.js';

/** Where and how to send syslog. */
export interface SyslogTarget {
  readonly host: string;
  readonly port: number;
  readonly protocol: 'udp' | 'tcp' | 'tls';
  /** PEM CA bundle the TLS server's certificate must chain to (default: the system's). */
  readonly ca?: string;
  /** Facility number (RFC 5424; default 16, local0). */
  readonly facility?: number;
}

/** Logs without importing a logger into analysis: the caller passes where to say things. */
export type SinkLog = (message: string) => void;

const MAX_QUEUE = 10_000;

/**
 * Sends each alert as one RFC 5424 message (the alert JSON as the message), over UDP, or over TCP or TLS with
 * RFC 6587 octet counting (RFC 5425 for TLS). Never blocks the pipeline: alerts are queued and sent in the
 * background, a lost connection is re-opened with backoff, and a queue that overflows drops the oldest with a
 * log line (the alerts stay in the store regardless).
 */
export class SyslogAlertSink implements AlertSink {
  readonly #target: SyslogTarget;
  readonly #log: SinkLog;
  readonly #queue: Buffer[] = [];
  #udp: UdpSocket | undefined;
  #udpPending = 0;
  #udpDrained: (() => void) | undefined;
  #stream: Socket | undefined;
  /** The socket being opened, until it is ready. */
  #opening: Socket | undefined;
  #connecting = false;
  #backoffMs = 500;
  #closed = false;

  constructor(target: SyslogTarget, log: SinkLog) {
    this.#target = target;
    this.#log = log;
  }

  async write(alerts: readonly AnyAlert[]): Promise<void> {
    // After close nothing is sent; the alerts are in the store regardless.
    if (this.#closed) return;
    for (const alert of alerts) this.#queue.push(Buffer.from(formatRfc5424(alert, this.#target.facility ?? 16)));
    if (this.#queue.length > MAX_QUEUE) {
      const dropped = this.#queue.splice(0, this.#queue.length - MAX_QUEUE).length;
      this.#log(`syslog ${this.#target.host}:${this.#target.port} unreachable: dropped the ${dropped} oldest queued alerts (they remain in the store)`);
    }
    this.#flush();
  }

  /** Sends what is queued (waiting up to 5 s for a connection being opened), then closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#udp !== undefined) {
      const udp = this.#udp;
      if (this.#udpPending > 0) await withTimeout(new Promise<void>((resolve) => (this.#udpDrained = resolve)), 5000);
      udp.close();
    }
    const socket = this.#stream ?? this.#opening;
    if (socket !== undefined) {
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      if (this.#stream !== undefined) socket.end();
      if (!(await withTimeout(closed, 5000))) socket.destroy();
    }
  }

  #flush(): void {
    if (this.#target.protocol === 'udp') {
      this.#udp ??= createSocket(this.#target.host.includes(':') ? 'udp6' : 'udp4');
      for (const message of this.#queue.splice(0)) {
        this.#udpPending++;
        this.#udp.send(message, this.#target.port, this.#target.host, (error) => {
          if (error !== null) this.#log(`syslog udp send failed: ${error.message}`);
          if (--this.#udpPending === 0) this.#udpDrained?.();
        });
      }
      return;
    }
    if (this.#stream === undefined) {
      this.#connect();
      return;
    }
    for (const message of this.#queue.splice(0)) this.#stream.write(Buffer.concat([Buffer.from(`${message.length} `), message]));
  }

  #connect(): void {
    if (this.#connecting || this.#closed) return;
    this.#connecting = true;
    const { host, port } = this.#target;
    const socket =
      this.#target.protocol === 'tls'
        ? // SNI takes host names only; the certificate is still checked against an IP address.
          tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...(this.#target.ca === undefined ? {} : { ca: this.#target.ca }) })
        : netConnect({ host, port });
    this.#opening = socket;
    const ready = this.#target.protocol === 'tls' ? 'secureConnect' : 'connect';
    socket.once(ready, () => {
      this.#connecting = false;
      this.#opening = undefined;
      this.#backoffMs = 500;
      this.#stream = socket;
      this.#flush();
      // Closed while connecting: what was queued is now sent; finish the stream.
      if (this.#closed) socket.end();
    });
    socket.on('error', (error: Error) => this.#log(`syslog ${this.#target.protocol} ${host}:${port}: ${error.message}`));
    socket.on('close', () => {
      this.#connecting = false;
      this.#opening = undefined;
      this.#stream = undefined;
      if (this.#closed || this.#queue.length === 0) return;
      setTimeout(() => this.#connect(), this.#backoffMs).unref();
      this.#backoffMs = Math.min(this.#backoffMs * 2, 60_000);
    });
  }
}

const SEVERITY = (level: number): number => (level >= 12 ? 2 : level >= 7 ? 4 : 5);

/** `<PRI>1 TIMESTAMP HOST custos PID rule<ID> - JSON`: RFC 5424 (APP-NAME, PROCID, MSGID), the alert JSON as the message. */
export function formatRfc5424(alert: AnyAlert, facility: number): string {
  const pri = facility * 8 + SEVERITY(alert.rule.level);
  return `<${pri}>1 ${alert.timestamp} ${hostname() || '-'} custos ${process.pid} rule${alert.rule.id} - ${JSON.stringify(alert)}`;
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const done = await Promise.race([promise.then(() => true), expired]);
  clearTimeout(timer);
  return done;
}
