import { CustosError } from '../core/custos-error.js';

/**
 * Input from a peer that does not decode (an observation whose path is relative, a file state with an unknown
 * field): the peer's fault. The manager answers it with 400; any other error while handling a request is a bug or
 * an I/O failure here, answered with 500 and logged as an error, never blamed on the client.
 */
export class DecodeError extends CustosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MALFORMED_INPUT', message, options);
    this.name = 'DecodeError';
  }
}
