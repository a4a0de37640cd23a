import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { syscheckFor } from '../../test/support/scan-helpers.js';
import { parseMountInfo } from './mount-table.js';
import { realtimeIgnores } from './realtime-ignores.js';

const MOUNTS = [
  '22 1 0:21 / / rw - ext4 /dev/sda1 rw',
  '23 22 0:22 / /proc rw - proc proc rw',
  '24 22 0:23 / /sys rw - sysfs sysfs rw',
  '25 22 0:24 / /dev rw - devtmpfs udev rw',
  '26 22 0:25 / /srv/share rw - nfs4 server:/x rw',
  '27 22 0:26 / /run rw - tmpfs tmpfs rw',
].join('\n');

describe('realtimeIgnores', () => {
  const mounts = parseMountInfo(MOUNTS, { nfs: true, dev: true, proc: true, sys: true });

  it('keeps the ignored paths, the skipped file systems and the non-realtime directories below `/` out of its watch', () => {
    const syscheck = syscheckFor(
      [
        {
          path: '/',
          realtime: true,
          ignore: [
            { kind: 'path', source: '/var/cache' },
            { kind: 'sregex', source: '.log$' },
          ],
        },
        { path: '/usr', realtime: false },
        { path: '/etc', realtime: true },
      ],
      { ignore: [{ kind: 'path', source: '/tmp' }] },
    );
    assert.deepEqual(realtimeIgnores('/', syscheck, mounts).sort(), ['/dev', '/proc', '/srv/share', '/sys', '/tmp', '/usr', '/var/cache']);
  });

  it('gives a directory only what lies below it', () => {
    const syscheck = syscheckFor(
      [
        { path: '/etc', realtime: true },
        { path: '/', realtime: true },
      ],
      {
        ignore: [
          { kind: 'path', source: '/etc/mtab' },
          { kind: 'path', source: '/tmp' },
        ],
      },
    );
    assert.deepEqual(realtimeIgnores('/etc', syscheck, mounts), ['/etc/mtab']);
  });
});
