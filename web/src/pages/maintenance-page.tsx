import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { attempt, ConfirmButton, Messages } from './confirm-button.js';
import { Time } from './level-badge.js';

interface Window {
  readonly id: number;
  readonly agentId?: string;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly startedBy: string;
  readonly reason?: string;
  readonly endedAt?: string;
  readonly active: boolean;
}

/** Maintenance windows (changes recorded without alerts): the list, and (admin) start one or end the running ones. */
export function MaintenancePage({ admin }: { admin: boolean }) {
  const [windows, setWindows] = useState<readonly Window[]>();
  const [form, setForm] = useState({ duration: '1h', reason: '', agent: '' });
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const load = (): void => {
    api<{ windows: Window[] }>('GET', '/api/maintenance').then(
      (m) => setWindows([...m.windows].reverse()),
      (e: Error) => setError(e.message),
    );
  };
  useEffect(load, []);
  const start = (): Promise<void> =>
    attempt(
      async () => {
        const body = {
          duration: form.duration.trim(),
          ...(form.reason.trim() === '' ? {} : { reason: form.reason }),
          ...(form.agent === '' ? {} : { agent: form.agent }),
        };
        const { window } = await api<{ window: Window }>('POST', '/api/maintenance', body);
        load();
        return `Maintenance window ${window.id} runs until ${new Date(window.endsAt).toLocaleString()}.`;
      },
      setNotice,
      setError,
    );
  const end = (agent: string | undefined): Promise<void> =>
    attempt(
      async () => {
        const { ended } = await api<{ ended: number }>('POST', '/api/maintenance/end', agent === undefined ? {} : { agent });
        load();
        return `Ended ${ended} window${ended === 1 ? '' : 's'}.`;
      },
      setNotice,
      setError,
    );
  const set = (key: keyof typeof form) => (e: { currentTarget: HTMLInputElement }) => setForm({ ...form, [key]: e.currentTarget.value });
  return (
    <section>
      <h1>Maintenance windows</h1>
      <Messages error={error} notice={notice} />
      {admin && (
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            void start();
          }}
        >
          <label>
            For <input name="duration" size={6} value={form.duration} onInput={set('duration')} placeholder="30m" />
          </label>
          <label>
            Agent <input name="agent" size={6} value={form.agent} onInput={set('agent')} placeholder="all" />
          </label>
          <label class="wide">
            Reason <input name="reason" value={form.reason} onInput={set('reason')} placeholder="monthly patch run" />
          </label>
          <button type="submit">Start window</button>
        </form>
      )}
      {windows === undefined ? (
        <p class="loading">Loading…</p>
      ) : windows.length === 0 ? (
        <p class="muted">No maintenance window yet.</p>
      ) : (
        <table class="windows">
          <thead>
            <tr>
              <th>Id</th>
              <th>Agent</th>
              <th>From</th>
              <th>Until</th>
              <th>By</th>
              <th>Reason</th>
              <th>State</th>
              {admin && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {windows.map((w) => (
              <tr data-window={w.id}>
                <td>{w.id}</td>
                <td>{w.agentId ?? 'every agent'}</td>
                <td>
                  <Time iso={w.startsAt} />
                </td>
                <td>
                  <Time iso={w.endedAt ?? w.endsAt} />
                </td>
                <td>{w.startedBy}</td>
                <td>{w.reason ?? <span class="muted">—</span>}</td>
                <td>{w.active ? <span class="status status-silent">active</span> : <span class="muted">{w.endedAt === undefined ? 'over' : 'ended'}</span>}</td>
                {admin && <td>{w.active && <ConfirmButton label="End" question="End it now?" onConfirm={() => end(w.agentId)} />}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
