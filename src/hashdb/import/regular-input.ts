import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { CustosError } from '../../core/custos-error.js';

/**
 * Opens an import's input file for reading and returns its descriptor, refusing anything but a regular file: a
 * FIFO would block the import (and the apt hook, and apt) forever, a device would stream without end.
 * O_NONBLOCK makes the open of a FIFO return at once so it can be refused.
 */
export function openRegularInput(file: string): number {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (error) {
    throw new CustosError('USAGE', `${file}: cannot open: ${(error as Error).message}`);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new CustosError('USAGE', `${file}: not a regular file (a FIFO, device or directory); refusing to read it`);
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Refuses an input that is not a regular file (see {@link openRegularInput}), for readers that open it by name. */
export function assertRegularInput(file: string): void {
  closeSync(openRegularInput(file));
}
