import { levelBand } from './level-badge.js';

/** Alerts per time bucket and level, as GET /api/fleet sends them. */
export interface Bucket {
  readonly bucket: string;
  readonly level: number;
  readonly count: number;
}

const BANDS = ['low', 'medium', 'high', 'critical'] as const;
const WIDTH = 720;
const HEIGHT = 160;

/**
 * A stacked bar chart of alerts over time by level band, drawn as plain SVG: one bar per bucket from `since` to
 * now (empty buckets too, so gaps show), stacked low to critical.
 */
export function AlertsChart({ buckets, since, now, unit }: { buckets: readonly Bucket[]; since: string; now: string; unit: 'hour' | 'day' }) {
  const width = unit === 'hour' ? 13 : 10;
  const keys: string[] = [];
  const step = unit === 'hour' ? 3_600_000 : 86_400_000;
  for (let t = Date.parse(since); t <= Date.parse(now) + step - 1; t += step) {
    const key = new Date(t).toISOString().slice(0, width);
    if (keys.at(-1) !== key) keys.push(key);
  }
  const totals = new Map<string, Record<(typeof BANDS)[number], number>>(keys.map((k) => [k, { low: 0, medium: 0, high: 0, critical: 0 }]));
  for (const b of buckets) {
    const row = totals.get(b.bucket);
    if (row !== undefined) row[levelBand(b.level)] += b.count;
  }
  const max = Math.max(1, ...[...totals.values()].map((r) => r.low + r.medium + r.high + r.critical));
  const barWidth = WIDTH / Math.max(1, keys.length);
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT + 20}`} role="img" aria-label="alerts over time by level">
        {keys.map((key, i) => {
          let y = HEIGHT;
          const row = totals.get(key)!;
          const total = BANDS.reduce((sum, band) => sum + row[band], 0);
          return (
            <g key={key}>
              <title>{`${key}: ${total} alert(s) — ${BANDS.map((b) => `${b} ${row[b]}`).join(', ')}`}</title>
              {BANDS.map((band) => {
                const h = (row[band] / max) * HEIGHT;
                y -= h;
                return h > 0 ? <rect class={`bar-${band}`} x={i * barWidth + 1} y={y} width={Math.max(1, barWidth - 2)} height={h} /> : null;
              })}
              {i % Math.ceil(keys.length / 8) === 0 && (
                <text x={i * barWidth + 2} y={HEIGHT + 14} class="axis">
                  {unit === 'hour' ? `${key.slice(11, 13)}h` : key.slice(5)}
                </text>
              )}
            </g>
          );
        })}
        <line x1="0" y1={HEIGHT} x2={WIDTH} y2={HEIGHT} class="axis-line" />
      </svg>
      <figcaption>
        {BANDS.map((band) => (
          <span class="legend">
            <span class={`swatch bar-${band}`} /> {band}
          </span>
        ))}
        <span class="muted">
          {' '}
          · peak {max} per {unit}
        </span>
      </figcaption>
    </figure>
  );
}
