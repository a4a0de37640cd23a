import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';

/** Who is on the other end of a request: the id in its client certificate's subject, and the certificate's SHA-256. */
export interface Peer {
  readonly id?: string;
  readonly sha256: string;
}

/** Finds the peer behind a request; {@link tlsPeerOf} in production. */
export type PeerOf = (request: FastifyRequest) => Peer | undefined;

/** A connection's client certificate: read once per TLS connection (agents keep theirs open), not per request. */
const peers = new WeakMap<TLSSocket, Peer | null>();

/**
 * The verified client certificate of a request's TLS connection (TLS 1.3 only, so it cannot change by
 * renegotiation), or undefined when there is none or it did not verify against the manager's CA.
 */
export const tlsPeerOf: PeerOf = (request) => {
  const socket = request.raw.socket as TLSSocket;
  let peer = peers.get(socket);
  if (peer === undefined) {
    const cert = socket.authorized ? socket.getPeerCertificate() : undefined;
    const cn = cert?.subject?.CN;
    // The certificate's SHA-256 is that of its DER bytes, as certSha256 computes it from PEM at issue.
    peer = cert?.raw === undefined ? null : { ...(typeof cn === 'string' ? { id: cn } : {}), sha256: createHash('sha256').update(cert.raw).digest('hex') };
    peers.set(socket, peer);
  }
  return peer ?? undefined;
};
