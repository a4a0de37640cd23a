import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { describe, it } from 'node:test';
import { IN, parseInotifyEvents } from './inotify-events.js';

/** One `struct inotify_event` as the kernel lays it out: the name NUL-padded to `len`. */
function record(wd: number, mask: number, cookie: number, name: Buffer, len: number): Buffer {
  const header = Buffer.alloc(16);
  const le = endianness() === 'LE';
  if (le) {
    header.writeInt32LE(wd, 0);
    header.writeUInt32LE(mask >>> 0, 4);
    header.writeUInt32LE(cookie, 8);
    header.writeUInt32LE(len, 12);
  } else {
    header.writeInt32BE(wd, 0);
    header.writeUInt32BE(mask >>> 0, 4);
    header.writeUInt32BE(cookie, 8);
    header.writeUInt32BE(len, 12);
  }
  const padded = Buffer.alloc(len);
  name.copy(padded);
  return Buffer.concat([header, padded]);
}

describe('parseInotifyEvents', () => {
  it('splits records, ends names at their padding, keeps name bytes as latin1 and reads the overflow record', () => {
    const bytes = Buffer.concat([
      record(3, IN.CREATE, 0, Buffer.from('a\nb'), 16),
      record(4, IN.MOVED_FROM | IN.ISDIR, 7, Buffer.from([0xff, 0x41]), 16),
      record(-1, IN.Q_OVERFLOW, 0, Buffer.alloc(0), 0),
      record(5, IN.ATTRIB, 0, Buffer.alloc(0), 0),
    ]);
    assert.deepEqual(parseInotifyEvents(bytes), [
      { wd: 3, mask: IN.CREATE, cookie: 0, name: 'a\nb' },
      { wd: 4, mask: IN.MOVED_FROM | IN.ISDIR, cookie: 7, name: '\u00ffA' },
      { wd: -1, mask: IN.Q_OVERFLOW, cookie: 0, name: '' },
      { wd: 5, mask: IN.ATTRIB, cookie: 0, name: '' },
    ]);
  });

  it('stops at a truncated record instead of reading past the buffer', () => {
    const whole = record(3, IN.CREATE, 0, Buffer.from('name'), 16);
    assert.deepEqual(parseInotifyEvents(Buffer.concat([whole, whole.subarray(0, 20)])).length, 1);
  });
});
