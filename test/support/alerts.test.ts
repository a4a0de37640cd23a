import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readAlertsFile, sampleAlerts } from './alerts.js';
import { tempDir } from './temp-dir.js';

describe('readAlertsFile (alerts.json while the manager appends)', () => {
  const dir = tempDir();

  it('skips a torn last line until the writer finishes it, at every byte it could be cut at', () => {
    const path = join(dir, 'alerts.json');
    const [first, second] = sampleAlerts().map((a) => `${JSON.stringify(a)}\n`);
    assert.ok(first !== undefined && second !== undefined);
    writeFileSync(path, first);
    assert.equal(readAlertsFile(path).length, 1);
    // The second line arrives byte by byte (a write can be seen half done): never a parse error, never counted early.
    for (let cut = 1; cut < second.length; cut++) {
      writeFileSync(path, first + second.slice(0, cut));
      assert.equal(readAlertsFile(path).length, 1, `cut at byte ${cut}`);
    }
    appendFileSync(path, second.slice(second.length - 1));
    assert.deepEqual(
      readAlertsFile(path).map((a) => a.id),
      sampleAlerts()
        .slice(0, 2)
        .map((a) => a.id),
    );
  });

  it('throws on a complete line that is not JSON: corruption is never skipped', () => {
    const path = join(dir, 'corrupt.json');
    writeFileSync(path, `${JSON.stringify(sampleAlerts()[0])}\n{"half\n`);
    assert.throws(() => readAlertsFile(path), /line 2 is not JSON/);
  });

  it('a missing file is no alerts yet', () => {
    assert.deepEqual(readAlertsFile(join(dir, 'absent.json')), []);
  });
});
