import { X509Certificate } from 'node:crypto';
import { Agent, request } from 'node:https';

/** How the agent reaches its manager: the URL, the CA it pins, and its own client certificate once enrolled. */
export interface ManagerEndpoint {
  readonly url: string;
  /** The manager's CA (PEM). Absent only to fetch that CA at enrollment, whose fingerprint the token pins. */
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** An HTTP answer: status and parsed JSON body (`undefined` when there was none or it was not JSON). */
export interface ManagerReply {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/** A failure to reach or trust the manager (not an HTTP error status: those are replies). */
export class ManagerUnreachable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ManagerUnreachable';
  }
}

/** One keep-alive connection pool per enrolled endpoint: an agent talking every second should not pay a TLS handshake each time. */
const pools = new WeakMap<ManagerEndpoint, Agent>();

function poolFor(endpoint: ManagerEndpoint): Agent | false {
  if (endpoint.cert === undefined) return false;
  let pool = pools.get(endpoint);
  if (pool === undefined) {
    pool = new Agent({ keepAlive: true, maxSockets: 2, timeout: 60_000 });
    pools.set(endpoint, pool);
  }
  return pool;
}

/**
 * Calls the manager over HTTPS. The server certificate must chain to the pinned CA (any host name: the private CA
 * is what is trusted, so a manager behind a load balancer's name works). Without a CA (only to download the CA
 * itself at enrollment) nothing is trusted: the caller checks what it got against the token's fingerprint.
 */
export function callManager(endpoint: ManagerEndpoint, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 30_000): Promise<ManagerReply> {
  const url = new URL(path, endpoint.url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        timeout: timeoutMs,
        minVersion: 'TLSv1.3',
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        ...(endpoint.ca === undefined ? { rejectUnauthorized: false } : { ca: endpoint.ca, checkServerIdentity: () => undefined }),
        ...(endpoint.cert === undefined || endpoint.key === undefined ? {} : { cert: endpoint.cert, key: endpoint.key }),
        agent: poolFor(endpoint),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = text === '' ? undefined : JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new ManagerUnreachable(`no answer from ${endpoint.url} within ${timeoutMs / 1000} s`)));
    req.on('error', (error) => reject(error instanceof ManagerUnreachable ? error : new ManagerUnreachable(`cannot reach the manager at ${endpoint.url}: ${error.message}`, { cause: error })));
    req.end(payload);
  });
}

/** SHA-256 of a PEM certificate, hex. */
export function pemSha256(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
}
