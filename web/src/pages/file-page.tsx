import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { LevelBadge, Time } from './level-badge.js';

type State = Record<string, unknown>;

interface HistoryEntry {
  readonly eventId: number;
  readonly ts: string;
  readonly event: 'added' | 'modified' | 'deleted';
  readonly changed: readonly string[];
  readonly before?: State;
  readonly after?: State;
  readonly verdict: {
    verdict: string;
    source?: string;
    package?: string;
    version?: string;
    match?: string;
    known_path?: string;
    label?: string;
    reason?: string;
  };
  readonly rule?: { id: number; level: number; description: string };
  readonly outcome: string;
  readonly reason?: string;
  readonly alertId?: string;
  readonly ack?: { by: string; at: string; note?: string };
}

interface FileInfo {
  readonly agent: { id: string; name: string };
  readonly path: string;
  readonly pathExact: boolean;
  readonly current?: State;
  readonly openAlerts: readonly string[];
  readonly history: readonly HistoryEntry[];
}

const SHOWN = ['type', 'size', 'perm', 'mode', 'uname', 'gname', 'uid', 'gid', 'mtime', 'inode', 'links', 'linkTarget', 'md5', 'sha1', 'sha256', 'attributes'];
const text = (value: unknown): string => (value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value));

/** Before and after of one change, the changed attributes first and marked. */
function Compare({ entry }: { entry: HistoryEntry }) {
  const keys = SHOWN.filter((k) => entry.before?.[k] !== undefined || entry.after?.[k] !== undefined);
  const differs = (k: string): boolean => text(entry.before?.[k]) !== text(entry.after?.[k]);
  const ordered = [...keys.filter(differs), ...keys.filter((k) => !differs(k))];
  return (
    <table class="compare">
      <thead>
        <tr>
          <th>Attribute</th>
          <th>Before</th>
          <th>After</th>
        </tr>
      </thead>
      <tbody>
        {ordered.map((k) => (
          <tr class={differs(k) ? 'changed' : ''}>
            <td>{k}</td>
            <td class="value">{text(entry.before?.[k])}</td>
            <td class="value">{text(entry.after?.[k])}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Verdict({ verdict }: { verdict: HistoryEntry['verdict'] }) {
  const evidence = [
    verdict.package !== undefined ? `${verdict.package}${verdict.version === undefined ? '' : ` ${verdict.version}`}` : undefined,
    verdict.source,
    verdict.match,
    verdict.known_path,
    verdict.label,
    verdict.reason,
  ].filter((x) => x !== undefined);
  return (
    <span>
      <span class={`verdict verdict-${verdict.verdict}`}>{verdict.verdict}</span>
      {evidence.length > 0 && <span class="muted"> {evidence.join(' · ')}</span>}
    </span>
  );
}

/** One file on one agent: its state now, every recorded change, and (admin) accepting the current state. */
export function FilePage({ params, admin }: { params: URLSearchParams; admin: boolean }) {
  const agent = params.get('agent') ?? '';
  const pathB64 = params.get('path') ?? '';
  const [info, setInfo] = useState<FileInfo>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const load = (): void => void api<FileInfo>('GET', `/api/files${query({ agent, pathB64 })}`).then(setInfo, (e: Error) => setError(e.message));
  useEffect(load, [agent, pathB64]);
  const accept = async (): Promise<void> => {
    try {
      const done = await api<{ acknowledged: string[] }>('POST', '/api/files/accept', { agent, pathB64 });
      setNotice(`Accepted: ${done.acknowledged.length} open alert(s) closed.`);
      load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  if (error !== '' && info === undefined) return <p class="error">{error}</p>;
  if (info === undefined) return <p class="loading">Loading…</p>;
  return (
    <section>
      <h1 class="path">{info.path}</h1>
      <p>
        on <a href={`#/alerts${query({ agent: info.agent.id })}`}>{info.agent.name}</a> ({info.agent.id})
        {!info.pathExact && <span class="muted"> · the name is not plain UTF-8: non-printing bytes are shown as \xNN</span>}
      </p>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {notice !== '' && <p class="notice">{notice}</p>}
      <h2>Now</h2>
      {info.current === undefined ? (
        <p class="muted">Not in the baseline (deleted, or not monitored).</p>
      ) : (
        <dl class="state">
          {SHOWN.filter((k) => info.current?.[k] !== undefined).map((k) => (
            <>
              <dt>{k}</dt>
              <dd class="value">{text(info.current?.[k])}</dd>
            </>
          ))}
        </dl>
      )}
      <p class="actions">
        {info.openAlerts.length} open alert(s) on this file.{' '}
        {admin && (
          <button type="button" disabled={info.openAlerts.length === 0} onClick={() => void accept()}>
            Accept current state as baseline
          </button>
        )}
      </p>
      <h2>History</h2>
      {info.history.length === 0 && <p class="muted">No recorded change.</p>}
      {info.history.map((h) => (
        <article class="change" data-event-id={h.eventId}>
          <header>
            <Time iso={h.ts} /> · <strong>{h.event}</strong>
            {h.rule !== undefined && (
              <>
                {' '}
                · <LevelBadge level={h.rule.level} /> rule {h.rule.id} {h.rule.description}
              </>
            )}{' '}
            · {h.outcome}
            {h.reason !== undefined && <span class="muted"> ({h.reason})</span>}
            {h.ack !== undefined && (
              <span class="muted">
                {' '}
                · acknowledged by {h.ack.by}
                {h.ack.note !== undefined && ` (${h.ack.note})`}
              </span>
            )}
          </header>
          <p>
            Known-hash verdict: <Verdict verdict={h.verdict} />
          </p>
          {h.changed.length > 0 && <p>Changed: {h.changed.join(', ')}</p>}
          <Compare entry={h} />
        </article>
      ))}
    </section>
  );
}
