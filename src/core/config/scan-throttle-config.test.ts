import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOssecConfig } from './ossec-config.js';
import { DEFAULT_SCAN_THROTTLE } from './scan-throttle-config.js';
import { parseYamlConfig } from './yaml-config.js';

const defaults = { dataDir: '/var/lib/custos', hostname: 'host1' };

const ossec = (inner: string): string => `<ossec_config>\n  <syscheck>\n    <directories>/etc</directories>\n${inner}  </syscheck>\n</ossec_config>\n`;

describe('scan throttle options', () => {
  it("defaults to Wazuh's process priority (10), best-effort:7 I/O, no rate or CPU limit and no max_eps", () => {
    const r = parseYamlConfig('', 'custos.yml', defaults);
    assert.ok(r.ok);
    assert.deepEqual(r.value.config.syscheck.throttle, DEFAULT_SCAN_THROTTLE);
  });

  it('reads every option from custos.yml, in its units', () => {
    const yaml =
      'syscheck:\n  process_priority: 15\n  io_priority: idle\n  scan_files_per_second: 2000\n  scan_bytes_per_second: 20MiB\n  scan_cpu_share: 25%\n  max_eps: 100\n';
    const r = parseYamlConfig(yaml, 'custos.yml', defaults);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    assert.deepEqual(r.value.config.syscheck.throttle, {
      processPriority: 15,
      ioPriority: { ioClass: 'idle', level: 0 },
      filesPerSecond: 2000,
      bytesPerSecond: 20 * 2 ** 20,
      cpuSharePercent: 25,
      maxEps: 100,
    });
  });

  it("reads OSSEC's and Wazuh's <process_priority> and <max_eps> (and Custos's own tags) from ossec.conf, without a warning", () => {
    const text = ossec(
      '    <process_priority>-5</process_priority>\n    <max_eps>50</max_eps>\n    <io_priority>best-effort:4</io_priority>\n    <scan_cpu_share>30</scan_cpu_share>\n    <scan_files_per_second>500</scan_files_per_second>\n',
    );
    const r = parseOssecConfig(text, '/var/ossec/etc/ossec.conf', defaults);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
    assert.deepEqual(r.value.config.syscheck.throttle, {
      processPriority: -5,
      ioPriority: { ioClass: 'best-effort', level: 4 },
      filesPerSecond: 500,
      cpuSharePercent: 30,
      maxEps: 50,
    });
    assert.deepEqual(
      r.value.warnings.filter((w) => /process_priority|max_eps/.test(w.key)),
      [],
    );
  });

  const bad: readonly [string, string, string, RegExp][] = [
    ['a nice value above 19', '<process_priority>20</process_priority>', 'syscheck.process_priority', /at most 19/],
    ['a nice value below -20', '<process_priority>-21</process_priority>', 'syscheck.process_priority', /at least -20/],
    ['a nice value that is not a number', '<process_priority>low</process_priority>', 'syscheck.process_priority', /whole number/],
    ['a negative max_eps', '<max_eps>-1</max_eps>', 'syscheck.max_eps', /at least 0/],
    ["a max_eps above Wazuh's range", '<max_eps>1000001</max_eps>', 'syscheck.max_eps', /at most 1000000/],
    ['an unknown I/O class', '<io_priority>realtime</io_priority>', 'syscheck.io_priority', /not an I\/O priority/],
    ['an I/O level out of range', '<io_priority>best-effort:8</io_priority>', 'syscheck.io_priority', /not an I\/O priority/],
    ['a CPU share of 0', '<scan_cpu_share>0</scan_cpu_share>', 'syscheck.scan_cpu_share', /above 0/],
    ['a CPU share above 100', '<scan_cpu_share>150%</scan_cpu_share>', 'syscheck.scan_cpu_share', /at most 100/],
    ['a byte rate that is not a size', '<scan_bytes_per_second>fast</scan_bytes_per_second>', 'syscheck.scan_bytes_per_second', /not a size/],
  ];
  for (const [name, tag, key, message] of bad) {
    it(`refuses ${name}, with the line of the tag`, () => {
      const r = parseOssecConfig(ossec(`    ${tag}\n`), 'ossec.conf', defaults);
      assert.ok(!r.ok);
      const issue = r.error.find((i) => i.key === key);
      assert.ok(issue !== undefined, JSON.stringify(r.error));
      assert.equal(issue.line, 4);
      assert.match(issue.message, message);
    });
  }

  it('refuses bad values in custos.yml with their line', () => {
    const r = parseYamlConfig('syscheck:\n  frequency: 1h\n  process_priority: 99\n  max_eps: lots\n', 'custos.yml', defaults);
    assert.ok(!r.ok);
    assert.deepEqual(
      r.error.map((i) => [i.key, i.line]),
      [
        ['syscheck.process_priority', 3],
        ['syscheck.max_eps', 4],
      ],
    );
  });
});
