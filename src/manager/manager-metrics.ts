import type { AgentRef } from '../core/build-alert.js';
import type { AgentFootprintReport } from '../protocol/wire.js';

/** An agent's last footprint and when it came. */
interface HeardFootprint {
  readonly agent: AgentRef;
  readonly footprint: AgentFootprintReport;
  readonly atMs: number;
}

/** Counters and gauges the manager exposes at `/metrics`, in Prometheus text format. */
export class ManagerMetrics {
  batches = 0;
  batchesRejected = 0;
  events = 0;
  alerts = 0;
  enrollments = 0;
  enrollmentsRefused = 0;
  tlsHandshakeFailures = 0;
  inFlight = 0;
  agentsConnected = 0;
  agentsSilent = 0;
  readonly #ingestSeconds: number[] = [];
  readonly #scanSeconds: number[] = [];
  readonly #started = Date.now();
  readonly #footprints = new Map<string, HeardFootprint>();
  /**
   * How long an agent's footprint is shown after its last keep-alive (the manager's `silent_after`): a silent or
   * revoked agent's series end rather than show what it held before it went away.
   */
  footprintFreshForMs = 60 * 60_000;

  /** Records how long one batch took to apply. */
  observeIngest(seconds: number): void {
    push(this.#ingestSeconds, seconds);
  }

  /** Records how long an agent's scan took, as it reported. */
  observeScan(seconds: number): void {
    push(this.#scanSeconds, seconds);
  }

  /** Keeps an agent's footprint, as its keep-alive said (one per agent, the newest). */
  recordFootprint(agent: AgentRef, footprint: AgentFootprintReport, atMs = Date.now()): void {
    this.#footprints.set(agent.id, { agent, footprint, atMs });
  }

  /** The Prometheus exposition. */
  render(nowMs = Date.now()): string {
    const uptime = (Date.now() - this.#started) / 1000;
    const lines = [
      gauge('custos_uptime_seconds', 'Seconds since the manager started.', uptime),
      counter('custos_batches_total', 'Agent batches applied.', this.batches),
      counter('custos_batches_rejected_total', 'Agent batches refused (replayed, out of order, forged, malformed).', this.batchesRejected),
      counter('custos_file_events_total', 'File changes ingested.', this.events),
      gauge('custos_file_events_per_second', 'File changes ingested per second since start.', this.events / Math.max(uptime, 1)),
      counter('custos_alerts_total', 'Alerts raised.', this.alerts),
      counter('custos_enrollments_total', 'Agents enrolled.', this.enrollments),
      counter('custos_enrollments_refused_total', 'Enrollments refused (bad, expired or reused token).', this.enrollmentsRefused),
      counter('custos_tls_handshake_failures_total', 'Connections that failed the TLS handshake.', this.tlsHandshakeFailures),
      gauge('custos_requests_in_flight', 'Agent requests being processed (the ingest queue depth).', this.inFlight),
      gauge('custos_agents_connected', 'Agents heard from within the silence threshold.', this.agentsConnected),
      gauge('custos_agents_silent', 'Agents past the silence threshold.', this.agentsSilent),
      summary('custos_batch_ingest_seconds', 'Time to apply one agent batch.', this.#ingestSeconds),
      summary('custos_agent_scan_seconds', 'Scan durations reported by agents.', this.#scanSeconds),
      ...this.#renderFootprints(nowMs),
    ];
    return `${lines.join('\n')}\n`;
  }

  /** Per agent heard from within `footprintFreshForMs`: its memory, threads and scan throttle (a limit not set: no sample). */
  #renderFootprints(nowMs: number): string[] {
    const fresh: HeardFootprint[] = [];
    for (const [id, heard] of this.#footprints) {
      if (nowMs - heard.atMs > this.footprintFreshForMs) this.#footprints.delete(id);
      else fresh.push(heard);
    }
    if (fresh.length === 0) return [];
    fresh.sort((a, b) => (a.agent.id < b.agent.id ? -1 : a.agent.id > b.agent.id ? 1 : 0));
    const family = (name: string, help: string, value: (f: AgentFootprintReport) => number | undefined): string => {
      const samples = fresh.flatMap(({ agent, footprint }) => {
        const v = value(footprint);
        return v === undefined ? [] : [`${name}{agent_id="${labelValue(agent.id)}",agent_name="${labelValue(agent.name)}"} ${v}`];
      });
      return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples].join('\n');
    };
    return [
      family('custos_agent_resident_bytes', "Agent process's resident memory (VmRSS), as of its last keep-alive.", (f) => f.rssBytes),
      family('custos_agent_threads', "Agent process's threads, as of its last keep-alive.", (f) => f.threads),
      family('custos_agent_scan_nice', "Nice value of the agent's scan threads (process_priority).", (f) => f.throttle.processPriority),
      family('custos_agent_scan_io_idle', "1 when the agent's scan threads run in the idle I/O class, else 0.", (f) => (f.throttle.ioClass === 'idle' ? 1 : 0)),
      family('custos_agent_scan_io_level', "Best-effort I/O level (0-7) of the agent's scan threads.", (f) =>
        f.throttle.ioClass === 'idle' ? undefined : f.throttle.ioLevel,
      ),
      family(
        'custos_agent_scan_cpu_share_limit_percent',
        'Share of the machine a scan may use (scan_cpu_share); no sample: no limit.',
        (f) => f.throttle.cpuSharePercent,
      ),
      family(
        'custos_agent_scan_files_per_second_limit',
        'Entries a scan examines per second (scan_files_per_second); no sample: no limit.',
        (f) => f.throttle.filesPerSecond,
      ),
      family(
        'custos_agent_scan_bytes_per_second_limit',
        'Bytes a scan reads per second (scan_bytes_per_second); no sample: no limit.',
        (f) => f.throttle.bytesPerSecond,
      ),
      family('custos_agent_max_eps', 'Changes the agent sends per second (max_eps); 0: no limit.', (f) => f.throttle.maxEps),
    ];
  }
}

/** A Prometheus label value: backslash, double quote and line feed escaped, as the text format requires. */
function labelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function push(list: number[], value: number): void {
  list.push(value);
  if (list.length > 10_000) list.splice(0, list.length - 10_000);
}

function counter(name: string, help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}`;
}

function gauge(name: string, help: string, value: number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}`;
}

function summary(name: string, help: string, values: readonly number[]): string {
  const sorted = [...values].sort((a, b) => a - b);
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
  const sum = sorted.reduce((a, b) => a + b, 0);
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} summary`,
    `${name}{quantile="0.5"} ${q(0.5)}`,
    `${name}{quantile="0.99"} ${q(0.99)}`,
    `${name}_sum ${sum}`,
    `${name}_count ${sorted.length}`,
  ].join('\n');
}
