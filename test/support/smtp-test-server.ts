import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

/** One message as the server received it: the envelope, the TLS and login state, the headers and decoded body. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly secure: boolean;
  readonly user?: string;
  readonly headers: ReadonlyMap<string, string>;
  readonly text: string;
  readonly raw: string;
}

/** Options for {@link startSmtpServer}. */
export interface SmtpTestServerOptions {
  /** Port to listen on (0: any free one). */
  readonly port?: number;
  /** Key and certificate for STARTTLS; without them STARTTLS is not offered. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Require this login (and refuse any other). */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** Recipients refused with a permanent 550. */
  readonly refuse?: readonly string[];
}

/** A real SMTP server on loopback (the `smtp-server` library), collecting what it is sent. */
export interface SmtpTestServer {
  readonly port: number;
  readonly mails: ReceivedMail[];
  /** Failed login attempts. */
  readonly refusedLogins: number;
  close(): Promise<void>;
}

/** Starts a real SMTP server on 127.0.0.1. */
export async function startSmtpServer(options: SmtpTestServerOptions = {}): Promise<SmtpTestServer> {
  const mails: ReceivedMail[] = [];
  let refusedLogins = 0;
  const server = new SMTPServer({
    ...(options.tls === undefined
      ? { disabledCommands: options.auth === undefined ? ['STARTTLS', 'AUTH'] : ['STARTTLS'] }
      : { key: options.tls.key, cert: options.tls.cert }),
    ...(options.auth === undefined ? { authOptional: true } : { authOptional: false, allowInsecureAuth: options.tls === undefined }),
    logger: false,
    onAuth(auth, _session, callback) {
      if (options.auth !== undefined && auth.username === options.auth.user && auth.password === options.auth.pass) {
        callback(null, { user: auth.username });
        return;
      }
      refusedLogins++;
      callback(new Error('invalid login'));
    },
    onRcptTo(address, _session, callback) {
      if (options.refuse?.includes(address.address) === true) {
        callback(Object.assign(new Error('no such user'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const { headers, text } = parseMessage(raw);
        const user = (session.user as string | undefined) ?? undefined;
        mails.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          ...(user === undefined ? {} : { user }),
          headers,
          text,
          raw,
        });
        callback();
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
  server.on('error', () => undefined);
  return {
    port,
    mails,
    get refusedLogins() {
      return refusedLogins;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A self-signed certificate for 127.0.0.1 made with openssl, for the server's STARTTLS and the client's `smtp_ca`. */
export function makeLoopbackCertificate(dir: string, name = 'smtp'): { key: string; cert: string; certFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
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
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** Splits a message into unfolded headers (lower-case names, RFC 2047 words decoded) and its decoded text body. */
function parseMessage(raw: string): { headers: Map<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).toLowerCase(), decodeWords(line.slice(colon + 1).trim()));
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const bytes =
    encoding === 'base64'
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64')
      : encoding === 'quoted-printable'
        ? Buffer.from(
            body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            'latin1',
          )
        : Buffer.from(body, 'utf8');
  return { headers, text: bytes.toString('utf8').replace(/\r\n/g, '\n') };
}

/** `=?UTF-8?Q?...?=` and `=?UTF-8?B?...?=` words of a header, decoded. */
function decodeWords(value: string): string {
  return value.replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_m, kind: string, data: string) =>
    kind.toUpperCase() === 'B'
      ? Buffer.from(data, 'base64').toString('utf8')
      : Buffer.from(
          data.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_x, hex: string) => String.fromCharCode(parseInt(hex, 16))),
          'latin1',
        ).toString('utf8'),
  );
}
