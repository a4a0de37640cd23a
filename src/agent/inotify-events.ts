import { endianness } from 'node:os';

/** The inotify(7) mask bits Custos uses (linux/inotify.h). */
export const IN = {
  MODIFY: 0x2,
  ATTRIB: 0x4,
  CLOSE_WRITE: 0x8,
  MOVED_FROM: 0x40,
  MOVED_TO: 0x80,
  CREATE: 0x100,
  DELETE: 0x200,
  DELETE_SELF: 0x400,
  MOVE_SELF: 0x800,
  UNMOUNT: 0x2000,
  Q_OVERFLOW: 0x4000,
  IGNORED: 0x8000,
  ONLYDIR: 0x1000000,
  DONT_FOLLOW: 0x2000000,
  EXCL_UNLINK: 0x4000000,
  ISDIR: 0x40000000,
} as const;

/** One `struct inotify_event`; `name` is the entry's name as bytes, in latin1 (one char per byte), or ''. */
export interface InotifyEvent {
  readonly wd: number;
  readonly mask: number;
  readonly cookie: number;
  readonly name: string;
}

const HEADER = 16;
const little = endianness() === 'LE';

/**
 * Splits what a read of an inotify fd returned into events. The kernel pads a name with NULs up to `len`, so the
 * name ends at its first NUL. A truncated record (which the kernel never writes) ends the list.
 */
export function parseInotifyEvents(bytes: Buffer): InotifyEvent[] {
  const events: InotifyEvent[] = [];
  for (let at = 0; at + HEADER <= bytes.length;) {
    const wd = little ? bytes.readInt32LE(at) : bytes.readInt32BE(at);
    const mask = little ? bytes.readUInt32LE(at + 4) : bytes.readUInt32BE(at + 4);
    const cookie = little ? bytes.readUInt32LE(at + 8) : bytes.readUInt32BE(at + 8);
    const len = little ? bytes.readUInt32LE(at + 12) : bytes.readUInt32BE(at + 12);
    if (at + HEADER + len > bytes.length) break;
    const raw = bytes.subarray(at + HEADER, at + HEADER + len);
    const nul = raw.indexOf(0);
    events.push({ wd, mask, cookie, name: raw.toString('latin1', 0, nul < 0 ? raw.length : nul) });
    at += HEADER + len;
  }
  return events;
}
