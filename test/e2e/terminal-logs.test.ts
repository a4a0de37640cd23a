import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { CUSTOS_BIN } from '../support/run-custos.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * A service started by hand on a terminal logs readable lines in local time; under systemd (stderr not a terminal)
 * it keeps pino's JSON lines, which every other test of the agent and manager parses. `script` gives the real CLI a
 * real pseudo-terminal.
 */
describe('service logs on a terminal', () => {
  it('are readable lines in local time, not JSON', { timeout: 60_000 }, async () => {
    const data = tempDir('custos-tty-');
    const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
    const command = `exec env TZ=Asia/Kolkata ${quote(process.execPath)} ${quote(CUSTOS_BIN)} manager start --data ${quote(data)} --listen 127.0.0.1:0`;
    const child = spawn('script', ['-q', '-c', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let output = '';
    const listening = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "manager listening" line:\n${output}`)), 45_000);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        output += chunk;
        const line = output.split(/\r?\n/).find((l) => l.includes('manager listening'));
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(line);
        }
      });
    });
    process.kill(-(child.pid ?? 0), 'SIGTERM');
    assert.doesNotMatch(output, /"msg":/, 'JSON on a terminal');
    const match = /^(\d\d):(\d\d):(\d\d) INFO +manager listening host=127\.0\.0\.1 port=\d+/.exec(listening);
    assert.ok(match !== null, listening);
    // Local time of the child's zone (UTC+05:30, no daylight saving): its minutes are UTC's plus 30.
    const shown = Number(match[1]) * 60 + Number(match[2]);
    const now = new Date();
    const kolkata = (now.getUTCHours() * 60 + now.getUTCMinutes() + 330) % 1440;
    const apart = Math.min(Math.abs(shown - kolkata), 1440 - Math.abs(shown - kolkata));
    assert.ok(apart <= 2, `shown ${match[1]}:${match[2]}, local time in Asia/Kolkata is about ${Math.floor(kolkata / 60)}:${kolkata % 60}`);
  });
});
