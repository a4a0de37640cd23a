import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { caOf, managerUnderTest, type ManagerUnderTest } from '../../test/support/manager-under-test.js';
import { tempDir } from '../../test/support/temp-dir.js';
import type { SyscheckConfig } from '../core/config/custos-config.js';
import { parseYamlConfig } from '../core/config/yaml-config.js';
import { CentralConfigPoller } from './central-config-poller.js';

const parse = (yaml: string): SyscheckConfig => {
  const r = parseYamlConfig(yaml, 'central', { dataDir: '/var/lib/custos', hostname: 'web-1' });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value.config.syscheck;
};

describe('CentralConfigPoller, against a real manager over mutual TLS', () => {
  const dir = tempDir();
  let m: ManagerUnderTest;
  let url: string;
  before(async () => {
    m = await managerUnderTest(dir, { tls: true });
    url = await m.listen();
  });
  after(async () => m.close());

  it('keeps the local settings until the manager serves some, follows changes, and falls back when they are withdrawn', async () => {
    const agent = await m.enrollAgent('web-1');
    const local = parse('syscheck:\n  frequency: 6h\n');
    const poller = new CentralConfigPoller(local, parse, { url, ca: caOf(m), cert: agent.cert, key: agent.key }, pino({ level: 'silent' }));
    assert.equal(await poller.poll(), false, 'nothing served: nothing changed');
    assert.equal(poller.current, local);
    const shared = join(m.dataDir, 'shared');
    mkdirSync(shared, { recursive: true });
    writeFileSync(join(shared, 'default.yml'), 'syscheck:\n  frequency: 1h\n');
    assert.equal(await poller.poll(), true);
    assert.equal(poller.current.frequencyMs, 3_600_000);
    assert.match(poller.version ?? '', /^[0-9a-f]{64}$/);
    assert.equal(await poller.poll(), false, 'the same version again is no change');
    writeFileSync(join(shared, 'default.yml'), 'syscheck:\n  frequency: 2h\n');
    assert.equal(await poller.poll(), true);
    assert.equal(poller.current.frequencyMs, 7_200_000);
    rmSync(join(shared, 'default.yml'));
    assert.equal(await poller.poll(), true);
    assert.equal(poller.current, local);
    assert.equal(poller.version, undefined);
  });

  it('keeps what is in effect when the manager cannot be reached', async () => {
    const agent = await m.enrollAgent('web-2');
    const local = parse('');
    const poller = new CentralConfigPoller(
      local,
      parse,
      { url: 'https://127.0.0.1:9', ca: caOf(m), cert: agent.cert, key: agent.key },
      pino({ level: 'silent' }),
    );
    assert.equal(await poller.poll(), false);
    assert.equal(poller.current, local);
  });
});
