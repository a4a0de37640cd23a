import { X509Certificate } from 'node:crypto';
import type { ClientRequest } from 'node:http';
import { Agent, request } from 'node:https';

/** How the agent reaches its manager: the URL, the CA it pins, and its own client certificate once enrolled. */
export interface ManagerEndpoint {
  readonly url: string;
  /**
   * Other managers of the same fleet (one CA, one shared store), tried in order when the current one cannot be
   * reached. Every agent request is safe to repeat on another manager: batches apply once per sequence number.
   */
  readonly alternates?: readonly string[];
  /** Told when requests move to another manager (for the agent's log). */
  readonly onFailover?: (from: string, to: string, reason: string) => void;
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

/** One keep-alive connection pool per enrolled endpoint and manager: an agent talking every second should not pay a TLS handshake each time. */
const pools = new WeakMap<ManagerEndpoint, Map<string, Agent>>();
/**
 * The connection a request body above this size went over is closed after the answer (`Connection: close`). A TLS connection keeps
 * the largest buffer of ciphertext it ever wrote for as long as it lives (Node's TLS BIO), and keep-alives hold it
 * open forever: after a package report of 20,000 rows an idle agent kept 12.6 MB for it. One more handshake per
 * such request is nothing next to its body.
 */
const LARGE_BODY_BYTES = 1 << 20;
/** Which of an endpoint's managers answered last: requests stay with it until it fails. */
const current = new WeakMap<ManagerEndpoint, number>();

function poolFor(endpoint: ManagerEndpoint, url: string): Agent | false {
  if (endpoint.cert === undefined) return false;
  let byUrl = pools.get(endpoint);
  if (byUrl === undefined) {
    byUrl = new Map();
    pools.set(endpoint, byUrl);
  }
  let pool = byUrl.get(url);
  if (pool === undefined) {
    pool = new Agent({ keepAlive: true, maxSockets: 2, timeout: 60_000 });
    byUrl.set(url, pool);
  }
  return pool;
}

/** Every manager of an endpoint, in the order they are tried: the configured one first, then the alternates. */
export function managerUrls(endpoint: ManagerEndpoint): readonly string[] {
  return [endpoint.url, ...(endpoint.alternates ?? []).filter((u) => u !== endpoint.url)];
}

/** The manager the agent is talking to now (the last one that answered). */
export function activeManagerUrl(endpoint: ManagerEndpoint): string {
  const urls = managerUrls(endpoint);
  return urls[current.get(endpoint) ?? 0] ?? endpoint.url;
}

/**
 * Answers that mean "this manager cannot serve now, another may": a manager whose store is down answers 503, a
 * proxy in front of a dead one 502 or 504. Anything else is the fleet's answer and is not retried elsewhere.
 */
const UNAVAILABLE = new Set([502, 503, 504]);

/**
 * Calls the manager over HTTPS. The server certificate must chain to the pinned CA (any host name: the private CA
 * is what is trusted, so a manager behind a load balancer's name works). Without a CA (only to download the CA
 * itself at enrollment) nothing is trusted: the caller checks what it got against the token's fingerprint.
 *
 * With alternates, a manager that cannot be reached (or answers 502/503/504) is left for the next one, each tried
 * once per call, starting from the one that answered last; the call fails only when none answers.
 */
export async function callManager(endpoint: ManagerEndpoint, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 30_000): Promise<ManagerReply> {
  const urls = managerUrls(endpoint);
  const start = current.get(endpoint) ?? 0;
  let failure: ManagerUnreachable | undefined;
  for (let i = 0; i < urls.length; i++) {
    const index = (start + i) % urls.length;
    const url = urls[index] ?? endpoint.url;
    try {
      const reply = await callOne(endpoint, url, method, path, body, timeoutMs);
      if (UNAVAILABLE.has(reply.status) && i < urls.length - 1) {
        failure = new ManagerUnreachable(`the manager at ${url} is unavailable (${reply.status})`);
        continue;
      }
      if (index !== start && failure !== undefined) endpoint.onFailover?.(urls[start] ?? endpoint.url, url, failure.message);
      current.set(endpoint, index);
      return reply;
    } catch (error) {
      if (!(error instanceof ManagerUnreachable)) throw error;
      failure = error;
    }
  }
  throw urls.length > 1 && failure !== undefined
    ? new ManagerUnreachable(`no manager answered (${urls.join(', ')}): ${failure.message}`, { cause: failure })
    : (failure ?? new ManagerUnreachable('no manager configured'));
}

/**
 * The manager is trusted by its CA, under any host name. A function of the module, not a closure made per request:
 * https.Agent opens the connection of a queued request with the options of one that closed, so these options may
 * live as long as the agent, and a closure would hold the request that made them.
 */
const anyServerName = (): undefined => undefined;

function callOne(endpoint: ManagerEndpoint, base: string, method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number): Promise<ManagerReply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const length = payload === undefined ? 0 : Buffer.byteLength(payload);
  const req = request(new URL(path, base), {
    method,
    timeout: timeoutMs,
    minVersion: 'TLSv1.3',
    headers: {
      ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': length }),
      ...(length > LARGE_BODY_BYTES ? { connection: 'close' } : {}),
    },
    ...(endpoint.ca === undefined ? { rejectUnauthorized: false } : { ca: endpoint.ca, checkServerIdentity: anyServerName }),
    ...(endpoint.cert === undefined || endpoint.key === undefined ? {} : { cert: endpoint.cert, key: endpoint.key }),
    agent: poolFor(endpoint, base),
  });
  const reply = replyTo(req, base, timeoutMs);
  // Written here, where no closure refers to the body (see replyTo).
  req.end(payload);
  return reply;
}

/**
 * The answer to a request. Its listeners are made here, apart from the function that built the request's body:
 * V8 keeps the variables the closures of a function refer to in one context that all of them hold, and a request
 * can outlive its answer (a connection holds the last request it carried, and connections opened later with its
 * options may hold that one: see anyServerName). Made beside the body, they kept it: an idle agent held a 4.9 MB
 * package report this way.
 */
function replyTo(req: ClientRequest, base: string, timeoutMs: number): Promise<ManagerReply> {
  return new Promise((resolve, reject) => {
    req.on('response', (res) => {
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
    });
    req.on('timeout', () => req.destroy(new ManagerUnreachable(`no answer from ${base} within ${timeoutMs / 1000} s`)));
    req.on('error', (error) =>
      reject(error instanceof ManagerUnreachable ? error : new ManagerUnreachable(`cannot reach the manager at ${base}: ${error.message}`, { cause: error })),
    );
  });
}

/** SHA-256 of a PEM certificate, hex. */
export function pemSha256(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase();
}
