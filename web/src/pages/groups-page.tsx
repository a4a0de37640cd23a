import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { attempt, Messages } from './confirm-button.js';

interface Group {
  readonly name: string;
  readonly agents: readonly { id: string; name: string }[];
  readonly config?: { yaml: string; version: string };
}

/** One group's central configuration, editable by an admin; the manager checks it with the agents' parser. */
function GroupConfig({ group, admin, editable, onSaved }: { group: Group; admin: boolean; editable: boolean; onSaved: () => void }) {
  const [text, setText] = useState(group.config?.yaml ?? '');
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const save = (): Promise<void> =>
    attempt(
      async () => {
        const saved = await api<{ version: string; warnings: string[] }>('POST', `/api/groups/${encodeURIComponent(group.name)}/config`, { yaml: text });
        setEditing(false);
        onSaved();
        const warnings = saved.warnings.length === 0 ? '' : ` Warnings: ${saved.warnings.join('; ')}`;
        return `Saved (version ${saved.version.slice(0, 12)}): the group's agents pick it up at their next poll.${warnings}`;
      },
      setNotice,
      setError,
    );
  return (
    <div class="group-config" data-group={group.name}>
      <Messages error={error} notice={notice} />
      {editing ? (
        <>
          <textarea name="yaml" rows={14} cols={80} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <div class="actions">
            <button type="button" onClick={() => void save()}>
              Save
            </button>{' '}
            <button type="button" class="link" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </>
      ) : (
        <>
          {group.config === undefined ? (
            <p class="muted">No configuration of its own: its agents get default.yml, if any, or keep their local one.</p>
          ) : (
            <pre class="config">{group.config.yaml}</pre>
          )}
          {admin && editable && (
            <button type="button" onClick={() => setEditing(true)}>
              Edit configuration
            </button>
          )}
        </>
      )}
    </div>
  );
}

/** Configuration groups: their agents and central configuration (DATA/shared/groups/NAME.yml). */
export function GroupsPage({ admin }: { admin: boolean }) {
  const [data, setData] = useState<{ editable: boolean; groups: readonly Group[] }>();
  const [error, setError] = useState('');
  const load = (): void => {
    api<{ editable: boolean; groups: Group[] }>('GET', '/api/groups').then(setData, (e: Error) => setError(e.message));
  };
  useEffect(load, []);
  if (data === undefined) return error === '' ? <p class="loading">Loading…</p> : <p class="error">{error}</p>;
  return (
    <section>
      <h1>Groups and central configuration</h1>
      {data.groups.length === 0 && <p class="muted">No group yet: agents join one at enrollment (`--group`) or with `custos manager group`.</p>}
      {data.groups.map((g) => (
        <article>
          <h2>{g.name}</h2>
          <p>
            {g.agents.length === 0 ? <span class="muted">no agent</span> : g.agents.map((a) => `${a.name} (${a.id})`).join(', ')}
            {g.config !== undefined && <span class="muted"> · version {g.config.version.slice(0, 12)}</span>}
          </p>
          <GroupConfig group={g} admin={admin} editable={data.editable} onSaved={load} />
        </article>
      ))}
    </section>
  );
}
