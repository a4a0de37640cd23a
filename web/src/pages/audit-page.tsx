import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { Time } from './level-badge.js';

interface AuditEntry {
  readonly id: number;
  readonly ts: string;
  readonly actor: string;
  readonly action: string;
  readonly target?: string;
  readonly outcome: string;
  readonly remote?: string;
  readonly details?: Record<string, unknown>;
}

/** The audit log: every console action and sign-in, newest first. */
export function AuditPage() {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number>();
  const [error, setError] = useState('');
  const load = async (before?: number): Promise<void> => {
    try {
      const page = await api<{ entries: AuditEntry[]; next?: number }>('GET', `/api/audit${query({ before, limit: 100 })}`);
      setEntries((old) => (before === undefined ? page.entries : [...old, ...page.entries]));
      setNext(page.next);
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => void load(), []);
  return (
    <section>
      <h1>Audit log</h1>
      {error !== '' && <p class="error">{error}</p>}
      <table class="audit">
        <thead>
          <tr>
            <th>Time</th>
            <th>Who</th>
            <th>Action</th>
            <th>Target</th>
            <th>Outcome</th>
            <th>From</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr data-audit-id={e.id}>
              <td>
                <Time iso={e.ts} />
              </td>
              <td>{e.actor}</td>
              <td>{e.action}</td>
              <td class="path">{e.target ?? ''}</td>
              <td>
                <span class={e.outcome === 'ok' ? 'ok' : 'refused'}>{e.outcome}</span>
              </td>
              <td class="muted">{e.remote ?? ''}</td>
              <td class="muted">{e.details === undefined ? '' : JSON.stringify(e.details)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next !== undefined && (
        <button type="button" class="more" onClick={() => void load(next)}>
          Older entries
        </button>
      )}
    </section>
  );
}
