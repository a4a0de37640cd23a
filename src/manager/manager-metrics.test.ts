import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManagerMetrics } from './manager-metrics.js';

const footprint = { rssBytes: 50_000_000, threads: 11, throttle: { processPriority: 10, ioClass: 'best-effort', ioLevel: 7, maxEps: 0 } } as const;

describe('ManagerMetrics: agent footprints', () => {
  it("shows an agent's footprint until it has been silent for footprintFreshForMs, then ends its series", () => {
    const metrics = new ManagerMetrics();
    metrics.footprintFreshForMs = 60_000;
    metrics.recordFootprint({ id: '007', name: 'web-7' }, footprint, 1_000_000);
    assert.match(metrics.render(1_060_000), /^custos_agent_resident_bytes\{agent_id="007",agent_name="web-7"\} 50000000$/m);
    const later = metrics.render(1_060_001);
    assert.doesNotMatch(later, /custos_agent_(resident_bytes|threads|scan_nice)/, 'silent past the threshold: no agent series, not even their headers');
    assert.match(later, /^custos_uptime_seconds /m);
  });

  it('keeps one footprint per agent, the newest', () => {
    const metrics = new ManagerMetrics();
    metrics.recordFootprint({ id: '001', name: 'a' }, footprint, 1000);
    metrics.recordFootprint({ id: '001', name: 'a' }, { ...footprint, rssBytes: 42 }, 2000);
    const samples = metrics
      .render(3000)
      .split('\n')
      .filter((l) => l.startsWith('custos_agent_resident_bytes{'));
    assert.deepEqual(samples, ['custos_agent_resident_bytes{agent_id="001",agent_name="a"} 42']);
  });
});
