import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { attempt, ConfirmButton, Messages } from './confirm-button.js';
import { Time } from './level-badge.js';

interface Token {
  readonly id: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usedAt?: string;
  readonly usedBy?: string;
  readonly status: 'valid' | 'used' | 'expired';
}

/**
 * Enrollment tokens: the last month's, and (admin) a new single-use one, shown once (the manager keeps only a hash
 * of its secret), or an unused one revoked.
 */
export function TokensPage({ admin }: { admin: boolean }) {
  const [tokens, setTokens] = useState<readonly Token[]>();
  const [ttl, setTtl] = useState('1h');
  const [created, setCreated] = useState<{ token: string; expiresAt: string }>();
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const load = (): void => {
    api<{ tokens: Token[] }>('GET', '/api/tokens').then(
      (t) => setTokens(t.tokens),
      (e: Error) => setError(e.message),
    );
  };
  useEffect(load, []);
  const create = (): Promise<void> =>
    attempt(
      async () => {
        const made = await api<{ token: string; expiresAt: string }>('POST', '/api/tokens', ttl.trim() === '' ? {} : { ttl: ttl.trim() });
        setCreated(made);
        load();
        return 'Token created. Copy it now: it is not shown again.';
      },
      setNotice,
      setError,
    );
  const revoke = (id: string): Promise<void> =>
    attempt(
      async () => {
        await api('POST', `/api/tokens/${id}/revoke`, {});
        load();
        return `Token ${id} is revoked: enrolling with it fails from now on.`;
      },
      setNotice,
      setError,
    );
  return (
    <section>
      <h1>Enrollment tokens</h1>
      <Messages error={error} notice={notice} />
      {admin && (
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            void create();
          }}
        >
          <label>
            Valid for <input name="ttl" value={ttl} size={6} onInput={(e) => setTtl(e.currentTarget.value)} placeholder="1h" />
          </label>
          <button type="submit">Create token</button>
          <span class="muted">
            single use, as <code>custos manager token --ttl</code>
          </span>
        </form>
      )}
      {created !== undefined && (
        <div class="secret">
          <p>
            Enrol a host with <code>custos agent enroll --manager URL --token TOKEN --data DIR</code> before <Time iso={created.expiresAt} />:
          </p>
          <code class="token">{created.token}</code>
        </div>
      )}
      {tokens === undefined ? (
        <p class="loading">Loading…</p>
      ) : tokens.length === 0 ? (
        <p class="muted">No token was created in the last month.</p>
      ) : (
        <table class="tokens">
          <thead>
            <tr>
              <th>Id</th>
              <th>Created</th>
              <th>Expires</th>
              <th>Status</th>
              <th>Used by</th>
              {admin && <th>Actions</th>}
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr data-token={t.id}>
                <td class="value">{t.id}</td>
                <td>
                  <Time iso={t.createdAt} />
                </td>
                <td>
                  <Time iso={t.expiresAt} />
                </td>
                <td>
                  <span class={`status token-${t.status}`}>{t.status}</span>
                </td>
                <td>{t.usedBy ?? <span class="muted">—</span>}</td>
                {admin && <td>{t.status === 'valid' && <ConfirmButton label="Revoke" question={`Revoke token ${t.id}?`} onConfirm={() => revoke(t.id)} />}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
