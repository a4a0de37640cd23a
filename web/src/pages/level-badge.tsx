/** Alert levels in OSSEC's bands: 0-4 low, 5-7 medium, 8-11 high, 12+ critical. */
export function levelBand(level: number): 'low' | 'medium' | 'high' | 'critical' {
  return level >= 12 ? 'critical' : level >= 8 ? 'high' : level >= 5 ? 'medium' : 'low';
}

/** An alert level, coloured by band. */
export function LevelBadge({ level }: { level: number }) {
  return <span class={`level level-${levelBand(level)}`}>{level}</span>;
}

/** A time as the browser's local time, with the exact UTC time on hover. */
export function Time({ iso }: { iso: string | undefined }) {
  if (iso === undefined) return <span class="muted">never</span>;
  return (
    <time dateTime={iso} title={iso}>
      {new Date(iso).toLocaleString()}
    </time>
  );
}
