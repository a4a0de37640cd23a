import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, useSession, whenSignedOut, type Session } from './api.js';
import { AgentsPage } from './pages/agents-page.js';
import { AlertsPage } from './pages/alerts-page.js';
import { AuditPage } from './pages/audit-page.js';
import { FilePage } from './pages/file-page.js';
import { FleetPage } from './pages/fleet-page.js';
import { GroupsPage } from './pages/groups-page.js';
import { KnownHashesPage } from './pages/known-hashes-page.js';
import { MaintenancePage } from './pages/maintenance-page.js';
import { SearchPage } from './pages/search-page.js';
import { SignInPage } from './pages/sign-in-page.js';
import { TokensPage } from './pages/tokens-page.js';
import './style.css';

/** The page a location hash names (`#/alerts?agent=001`), and its parameters. */
function route(): { page: string; params: URLSearchParams } {
  const hash = location.hash.replace(/^#\/?/, '');
  const [page = '', search = ''] = hash.split('?');
  return { page: page === '' ? 'fleet' : page, params: new URLSearchParams(search) };
}

const PAGES = [
  ['fleet', 'Fleet'],
  ['alerts', 'Alerts'],
  ['search', 'Fleet search'],
  ['audit', 'Audit log'],
  // Operations (issue 15)
  ['agents', 'Agents'],
  ['tokens', 'Tokens'],
  ['groups', 'Groups'],
  ['maintenance', 'Maintenance'],
  ['known-hashes', 'Known hashes'],
] as const;

function App() {
  const [session, setSession] = useState<Session | undefined | null>(undefined);
  const [where, setWhere] = useState(route());

  useEffect(() => {
    const onHash = (): void => setWhere(route());
    addEventListener('hashchange', onHash);
    whenSignedOut(() => setSession(null));
    api<Session>('GET', '/api/session').then(setSession, () => setSession(null));
    return () => removeEventListener('hashchange', onHash);
  }, []);
  useSession(session ?? undefined);

  if (session === undefined) return <p class="loading">Loading…</p>;
  if (session === null) return <SignInPage onSignedIn={setSession} />;

  const signOut = async (): Promise<void> => {
    await api('DELETE', '/api/session').catch(() => undefined);
    setSession(null);
  };
  const admin = session.role === 'admin';
  return (
    <>
      <header class="top">
        <span class="brand">Custos</span>
        <nav>
          {PAGES.map(([page, label]) => (
            <a href={`#/${page}`} class={where.page === page ? 'active' : ''}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who">
          {session.user} <span class={`role role-${session.role}`}>{session.role}</span>
          <button type="button" class="link" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        {where.page === 'fleet' && <FleetPage />}
        {where.page === 'alerts' && <AlertsPage params={where.params} admin={admin} />}
        {where.page === 'file' && <FilePage params={where.params} admin={admin} />}
        {where.page === 'audit' && <AuditPage />}
        {where.page === 'search' && <SearchPage params={where.params} />}
        {where.page === 'agents' && <AgentsPage admin={admin} />}
        {where.page === 'tokens' && <TokensPage admin={admin} />}
        {where.page === 'groups' && <GroupsPage admin={admin} />}
        {where.page === 'maintenance' && <MaintenancePage admin={admin} />}
        {where.page === 'known-hashes' && <KnownHashesPage />}
        {!['file', ...PAGES.map(([page]) => page)].includes(where.page) && <p>No such page.</p>}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
