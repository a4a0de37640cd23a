import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { processEnded, thisProcess } from './process-identity.js';

describe('processEnded', () => {
  it('this process is alive; a child that exited and was reaped has ended', async () => {
    const me = thisProcess();
    assert.ok(me.start !== '' && me.boot !== '' && me.pidNamespace !== '', 'read from /proc');
    assert.equal(processEnded(me), false);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const reused = { ...me, pid: child.pid as number, start: '1' };
    // Its start time is not the one recorded: the PID now names another process (as after reuse).
    assert.equal(processEnded(reused), true, 'a PID whose process started at another time');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(processEnded({ ...me, pid: child.pid as number }), true, 'a PID no process has');
  });

  it('cannot tell across boots or PID namespaces: another boot has ended, another namespace is taken to be alive', () => {
    const me = thisProcess();
    assert.equal(processEnded({ ...me, boot: '00000000-0000-0000-0000-000000000000' }), true);
    assert.equal(processEnded({ ...me, pid: 2 ** 22 + 1, pidNamespace: 'pid:[1]' }), false);
  });
});
