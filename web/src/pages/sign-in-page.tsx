import { useState } from 'preact/hooks';
import { api, type Session } from '../api.js';

/** The sign-in form: a local console account (created with `custos manager user add`). */
export function SignInPage({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      onSignedIn(await api<Session>('POST', '/api/session', { name, password }));
    } catch (e) {
      setError((e as Error).message);
      setPassword('');
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="sign-in" onSubmit={(e) => void submit(e)}>
      <h1>Custos console</h1>
      <label>
        Name
        <input name="name" autocomplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Password
        <input name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
      </label>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}
