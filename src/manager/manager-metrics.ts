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

  /** Records how long one batch took to apply. */
  observeIngest(seconds: number): void {
    push(this.#ingestSeconds, seconds);
  }

  /** Records how long an agent's scan took, as it reported. */
  observeScan(seconds: number): void {
    push(this.#scanSeconds, seconds);
  }

  /** The Prometheus exposition. */
  render(): string {
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
    ];
    return `${lines.join('\n')}\n`;
  }
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
