import { useEffect, useState } from 'preact/hooks';
import { api, fileLink, query } from '../api.js';
import { AlertsChart, type Bucket } from './alerts-chart.js';
import { LevelBadge, Time } from './level-badge.js';

interface FleetAgent {
  readonly id: string;
  readonly name: string;
  readonly group?: string;
  readonly status: 'online' | 'silent' | 'revoked';
  readonly lastSeen?: string;
  readonly lastScan?: string;
  readonly baselineSize?: number;
  readonly openAlerts: Record<string, number>;
}

interface Fleet {
  readonly now: string;
  readonly since: string;
  readonly bucket: 'hour' | 'day';
  readonly agents: readonly FleetAgent[];
  readonly alertsOverTime: readonly Bucket[];
  readonly mostChanged: readonly { agentId: string; path: string; pathB64: string; changes: number }[];
}

/** The fleet overview: every agent's standing, alerts over time, and the paths that change most. */
export function FleetPage() {
  const [range, setRange] = useState<'24h' | '14d'>('24h');
  const [fleet, setFleet] = useState<Fleet>();
  const [error, setError] = useState('');
  useEffect(() => {
    api<Fleet>('GET', `/api/fleet${query({ range })}`).then(setFleet, (e: Error) => setError(e.message));
  }, [range]);
  if (error !== '') return <p class="error">{error}</p>;
  if (fleet === undefined) return <p class="loading">Loading…</p>;
  const names = new Map(fleet.agents.map((a) => [a.id, a.name]));
  return (
    <section>
      <h1>Fleet</h1>
      <div class="cards">
        {(['online', 'silent', 'revoked'] as const).map((status) => (
          <div class={`card status-${status}`}>
            <strong>{fleet.agents.filter((a) => a.status === status).length}</strong> {status}
          </div>
        ))}
      </div>
      <h2>
        Alerts over the last{' '}
        <select value={range} onChange={(e) => setRange(e.currentTarget.value as '24h' | '14d')} aria-label="range">
          <option value="24h">24 hours</option>
          <option value="14d">14 days</option>
        </select>
      </h2>
      <AlertsChart buckets={fleet.alertsOverTime} since={fleet.since} now={fleet.now} unit={fleet.bucket} />
      <h2>Agents</h2>
      <table class="agents">
        <thead>
          <tr>
            <th>Id</th>
            <th>Name</th>
            <th>Status</th>
            <th>Last seen</th>
            <th>Last scan</th>
            <th class="num">Baseline</th>
            <th>Open alerts by level</th>
          </tr>
        </thead>
        <tbody>
          {fleet.agents.map((a) => (
            <tr>
              <td>{a.id}</td>
              <td>
                <a href={`#/alerts${query({ agent: a.id })}`}>{a.name}</a>
                {a.group !== undefined && <span class="muted"> ({a.group})</span>}
              </td>
              <td>
                <span class={`status status-${a.status}`}>{a.status}</span>
              </td>
              <td>
                <Time iso={a.lastSeen} />
              </td>
              <td>
                <Time iso={a.lastScan} />
              </td>
              <td class="num">{a.baselineSize?.toLocaleString() ?? '—'}</td>
              <td>
                {Object.keys(a.openAlerts).length === 0 ? (
                  <span class="muted">none</span>
                ) : (
                  Object.entries(a.openAlerts)
                    .sort(([x], [y]) => Number(y) - Number(x))
                    .map(([level, n]) => (
                      <span class="open-count">
                        <LevelBadge level={Number(level)} />×{n}
                      </span>
                    ))
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {fleet.agents.length === 0 && <p class="muted">No agent has enrolled yet.</p>}
      <h2>Most changed paths</h2>
      {fleet.mostChanged.length === 0 ? (
        <p class="muted">No changes in this period.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Agent</th>
              <th>Path</th>
              <th class="num">Changes</th>
            </tr>
          </thead>
          <tbody>
            {fleet.mostChanged.map((c) => (
              <tr>
                <td>{names.get(c.agentId) ?? c.agentId}</td>
                <td>
                  <a class="path" href={fileLink(c.agentId, c.pathB64)}>
                    {c.path}
                  </a>
                </td>
                <td class="num">{c.changes}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
