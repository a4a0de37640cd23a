import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { attempt, ConfirmButton, Messages } from './confirm-button.js';
import { Time } from './level-badge.js';

interface Agent {
  readonly id: string;
  readonly name: string;
  readonly group?: string;
  readonly status: 'online' | 'silent' | 'revoked';
  readonly lastSeen?: string;
  readonly lastScan?: string;
}

/** Every enrolled agent with its status; an admin revokes one here (after confirming). */
export function AgentsPage({ admin }: { admin: boolean }) {
  const [agents, setAgents] = useState<readonly Agent[]>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const load = (): void => {
    api<{ agents: Agent[] }>('GET', '/api/fleet').then(
      (f) => setAgents(f.agents),
      (e: Error) => setError(e.message),
    );
  };
  useEffect(load, []);
  const revoke = (agent: Agent): Promise<void> =>
    attempt(
      async () => {
        await api('POST', `/api/agents/${agent.id}/revoke`, {});
        load();
        return `Agent ${agent.id} (${agent.name}) is revoked: the manager refuses it from now on.`;
      },
      setNotice,
      setError,
    );
  if (agents === undefined) return error === '' ? <p class="loading">Loading…</p> : <p class="error">{error}</p>;
  return (
    <section>
      <h1>Agents</h1>
      <Messages error={error} notice={notice} />
      <table class="agents">
        <thead>
          <tr>
            <th>Id</th>
            <th>Name</th>
            <th>Group</th>
            <th>Status</th>
            <th>Last seen</th>
            <th>Last scan</th>
            {admin && <th>Actions</th>}
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <tr data-agent={a.id}>
              <td>{a.id}</td>
              <td>
                <a href={`#/alerts${query({ agent: a.id })}`}>{a.name}</a>
              </td>
              <td>{a.group === undefined ? <span class="muted">none</span> : <a href="#/groups">{a.group}</a>}</td>
              <td>
                <span class={`status status-${a.status}`}>{a.status}</span>
              </td>
              <td>
                <Time iso={a.lastSeen} />
              </td>
              <td>
                <Time iso={a.lastScan} />
              </td>
              {admin && (
                <td>{a.status !== 'revoked' && <ConfirmButton label="Revoke" question={`Revoke ${a.name} for good?`} onConfirm={() => revoke(a)} />}</td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {agents.length === 0 && <p class="muted">No agent has enrolled yet: create an enrollment token.</p>}
    </section>
  );
}
