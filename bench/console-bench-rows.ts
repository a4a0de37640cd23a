/** What bench/console-bench.ts prints. */
export interface ConsoleBenchResult {
  readonly agents: number;
  readonly alerts: number;
  readonly files: number;
  readonly figures: Readonly<Record<string, number>>;
}

/** The console section of `npm run bench`: each overview query against the direct SQL, the pages and searches alone. */
export function consoleBenchRows(
  r: ConsoleBenchResult,
): { section: string; metric: string; value: number; unit: string; reference?: { name: string; value: number }; note?: string }[] {
  const section = `web console, ${r.agents.toLocaleString('en')} agents, ${r.alerts.toLocaleString('en')} alerts (SQLite)`;
  const f = (name: string): number => r.figures[name] ?? Number.NaN;
  const direct = (name: string) => ({ name: 'the same question asked of the alert and history tables', value: f(`${name}DirectMs`) });
  const rows: { section: string; metric: string; value: number; unit: string; reference?: { name: string; value: number }; note?: string }[] = [
    { section, metric: 'fleet overview: open alerts by level per agent', value: f('openByAgentMs'), unit: 'ms', reference: direct('openByAgent') },
    { section, metric: 'fleet overview: alerts over 24 hours by level', value: f('overTime24hMs'), unit: 'ms', reference: direct('overTime24h') },
    { section, metric: 'fleet overview: alerts over 14 days by level', value: f('overTime14dMs'), unit: 'ms', reference: direct('overTime14d') },
    { section, metric: 'fleet overview: most changed paths, 24 hours', value: f('mostChanged24hMs'), unit: 'ms', reference: direct('mostChanged24h') },
    { section, metric: 'fleet overview: most changed paths, 14 days', value: f('mostChanged14dMs'), unit: 'ms', reference: direct('mostChanged14d') },
    { section, metric: 'alert list: first page of open alerts (50)', value: f('alertPageMs'), unit: 'ms' },
    { section, metric: 'alert list: one agent, level 7 and up (50)', value: f('alertPageAgentMs'), unit: 'ms' },
    { section, metric: `fleet search: hosts grouped by content at a path (${r.agents.toLocaleString('en')} hosts)`, value: f('pathGroupsMs'), unit: 'ms' },
    {
      section,
      metric: 'fleet search: hosts with a SHA-256 (first 100)',
      value: f('digestHostsMs'),
      unit: 'ms',
      note: `baseline of ${(r.agents * r.files).toLocaleString('en')} entries`,
    },
  ];
  // CPU time beside each wall time: on a busy machine the wall time is mostly the wait for a core.
  const keys = ['openByAgent', 'overTime24h', 'overTime14d', 'mostChanged24h', 'mostChanged14d', 'alertPage', 'alertPageAgent', 'pathGroups', 'digestHosts'];
  return rows.map((row, i) => {
    const key = keys[i]!;
    const cpu = `CPU ${f(`${key}CpuMs`).toFixed(1)} ms${row.reference === undefined ? '' : ` (reference: ${f(`${key}DirectCpuMs`).toFixed(0)} ms)`}`;
    return { ...row, note: row.note === undefined ? cpu : `${row.note}; ${cpu}` };
  });
}
