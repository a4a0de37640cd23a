import { useEffect, useState } from 'preact/hooks';
import { api, fileLink, query, type AlertLine } from '../api.js';
import { LevelBadge, Time } from './level-badge.js';

interface Filters {
  agent: string;
  minLevel: string;
  rule: string;
  path: string;
  since: string;
  status: 'open' | 'acked' | 'all';
}

function filtersOf(params: URLSearchParams): Filters {
  const status = params.get('status');
  return {
    agent: params.get('agent') ?? '',
    minLevel: params.get('minLevel') ?? '',
    rule: params.get('rule') ?? '',
    path: params.get('path') ?? '',
    since: params.get('since') ?? '',
    status: status === 'acked' || status === 'all' ? status : 'open',
  };
}

/** Whether a live alert belongs in the list the filters describe (the same rules the server applies). */
function matches(alert: AlertLine, f: Filters): boolean {
  if (f.agent !== '' && alert.agentId !== f.agent) return false;
  if (f.minLevel !== '' && alert.level < Number(f.minLevel)) return false;
  if (f.rule !== '' && alert.ruleId !== Number(f.rule)) return false;
  if (f.path !== '' && (alert.path === undefined || !(alert.path === f.path || alert.path.startsWith(f.path.endsWith('/') ? f.path : `${f.path}/`))))
    return false;
  if (f.status === 'acked') return false;
  return true;
}

/** The alert list: server-side filters, newest first, more on demand, new alerts live, acknowledge for admins. */
export function AlertsPage({ params, admin }: { params: URLSearchParams; admin: boolean }) {
  const applied = filtersOf(params);
  const [form, setForm] = useState<Filters>(applied);
  const [alerts, setAlerts] = useState<AlertLine[]>([]);
  const [next, setNext] = useState<string>();
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState('');
  const [live, setLive] = useState(false);
  const key = params.toString();

  const load = async (after?: string): Promise<void> => {
    try {
      const since = applied.since === '' ? undefined : new Date(applied.since).toISOString();
      const page = await api<{ alerts: AlertLine[]; next?: string }>(
        'GET',
        `/api/alerts${query({ agent: applied.agent, minLevel: applied.minLevel, rule: applied.rule, path: applied.path, since, status: applied.status, limit: 50, after })}`,
      );
      setAlerts((old) => (after === undefined ? page.alerts : [...old, ...page.alerts]));
      setNext(page.next);
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  };

  useEffect(() => {
    setForm(applied);
    setSelected(new Set());
    setFresh(new Set());
    void load();
    const source = new EventSource('/api/alerts/stream');
    source.onopen = () => setLive(true);
    source.onerror = () => setLive(false);
    source.addEventListener('alert', (event) => {
      const alert = JSON.parse((event as MessageEvent<string>).data) as AlertLine;
      if (!matches(alert, applied)) return;
      setAlerts((old) => (old.some((a) => a.id === alert.id) ? old : [alert, ...old]));
      setFresh((old) => new Set([...old, alert.id]));
    });
    source.addEventListener('signed-out', () => location.reload());
    return () => source.close();
  }, [key]);

  const apply = (event: Event): void => {
    event.preventDefault();
    location.hash = `#/alerts${query({ ...form })}`;
  };
  const acknowledge = async (): Promise<void> => {
    try {
      await api('POST', '/api/alerts/ack', { ids: [...selected] });
      setSelected(new Set());
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const toggle = (id: string): void => setSelected((old) => (old.has(id) ? new Set([...old].filter((x) => x !== id)) : new Set([...old, id])));
  const field = (name: keyof Filters) => (e: Event) => setForm({ ...form, [name]: (e.currentTarget as HTMLInputElement).value });

  return (
    <section>
      <h1>
        Alerts <span class={live ? 'live on' : 'live'}>{live ? '● live' : '○ not live'}</span>
      </h1>
      <form class="filters" onSubmit={apply}>
        <label>
          Agent id
          <input name="agent" size={6} value={form.agent} onInput={field('agent')} placeholder="001" />
        </label>
        <label>
          Min level
          <input name="minLevel" type="number" min={0} max={16} value={form.minLevel} onInput={field('minLevel')} />
        </label>
        <label>
          Rule
          <input name="rule" type="number" min={0} value={form.rule} onInput={field('rule')} placeholder="550" />
        </label>
        <label class="wide">
          Path (and below)
          <input name="path" value={form.path} onInput={field('path')} placeholder="/etc" />
        </label>
        <label>
          Since
          <input name="since" type="datetime-local" value={form.since} onInput={field('since')} />
        </label>
        <label>
          Status
          <select name="status" value={form.status} onChange={field('status')}>
            <option value="open">open</option>
            <option value="acked">acknowledged</option>
            <option value="all">all</option>
          </select>
        </label>
        <button type="submit">Filter</button>
      </form>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {admin && (
        <p class="actions">
          <button type="button" disabled={selected.size === 0} onClick={() => void acknowledge()}>
            Acknowledge {selected.size > 0 ? selected.size : ''}
          </button>
        </p>
      )}
      <table class="alerts">
        <thead>
          <tr>
            {admin && <th />}
            <th>Time</th>
            <th>Agent</th>
            <th>Level</th>
            <th>Rule</th>
            <th>What</th>
            <th>Verdict</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr class={fresh.has(a.id) ? 'fresh' : ''} data-alert-id={a.id}>
              {admin && (
                <td>
                  {a.ack === undefined && <input type="checkbox" aria-label={`select ${a.id}`} checked={selected.has(a.id)} onChange={() => toggle(a.id)} />}
                </td>
              )}
              <td>
                <Time iso={a.ts} />
              </td>
              <td>{a.agentName !== '' ? a.agentName : a.agentId}</td>
              <td>
                <LevelBadge level={a.level} />
              </td>
              <td>{a.ruleId}</td>
              <td>
                {a.description} {a.event !== undefined && <span class="muted">({a.event})</span>}
                {a.path !== undefined && a.pathB64 !== undefined && (
                  <div>
                    <a
                      class="path"
                      href={fileLink(a.agentId, a.pathB64)}
                      title={a.pathExact === false ? 'shown with escapes: the name is not plain UTF-8' : undefined}
                    >
                      {a.path}
                    </a>
                  </div>
                )}
              </td>
              <td>{a.verdict !== undefined && <span class={`verdict verdict-${a.verdict}`}>{a.verdict}</span>}</td>
              <td>
                {a.ack === undefined ? (
                  <span class="open">open</span>
                ) : (
                  <span class="muted" title={a.ack.at}>
                    acknowledged by {a.ack.by}
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {alerts.length === 0 && <p class="muted">No alerts match.</p>}
      {next !== undefined && (
        <button type="button" class="more" onClick={() => void load(next)}>
          Older alerts
        </button>
      )}
    </section>
  );
}
