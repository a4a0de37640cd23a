import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { Time } from './level-badge.js';

interface Stats {
  readonly sources: readonly { kind: string; name: string; host?: string; importedAt: string; rows: number }[];
  readonly knownRows: number;
  readonly badRows: number;
  readonly paths: number;
  readonly packages: number;
}

interface Evidence {
  readonly algorithm: string;
  readonly source: { kind: string; name: string; host?: string };
  readonly knownAt?: string;
  readonly package?: { name: string; version: string; arch: string };
  readonly label?: string;
}

interface Lookup {
  readonly digest: string;
  readonly path?: string;
  readonly pathExact?: boolean;
  readonly verdict: string;
  readonly bad: readonly Evidence[];
  readonly atPath: readonly Evidence[];
  readonly elsewhere: readonly Evidence[];
}

/** A path typed in the form: as UTF-8, or `b64:` and the exact bytes in base64 (for a non-UTF-8 path). */
function pathB64Of(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (trimmed.startsWith('b64:')) return trimmed.slice(4);
  const bytes = new TextEncoder().encode(trimmed);
  return btoa(String.fromCharCode(...bytes));
}

function EvidenceRows({ title, rows }: { title: string; rows: readonly Evidence[] }) {
  if (rows.length === 0) return null;
  return (
    <>
      <h3>{title}</h3>
      <table class="evidence">
        <tbody>
          {rows.map((e) => (
            <tr>
              <td>
                {e.source.kind}:{e.source.name}
                {e.source.host === undefined ? '' : ` (${e.source.host})`}
              </td>
              <td>{e.package === undefined ? <span class="muted">no package</span> : `${e.package.name} ${e.package.version} ${e.package.arch}`}</td>
              <td class="path">{e.knownAt ?? <span class="muted">hash only</span>}</td>
              <td>{e.label ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** The known-hash database: its sources and counts, and what it says of one digest (at a path, if given). */
export function KnownHashesPage() {
  const [stats, setStats] = useState<Stats>();
  const [form, setForm] = useState({ digest: '', path: '' });
  const [result, setResult] = useState<Lookup>();
  const [error, setError] = useState('');
  useEffect(() => {
    api<Stats>('GET', '/api/known-hashes').then(setStats, (e: Error) => setError(e.message));
  }, []);
  const look = async (): Promise<void> => {
    setError('');
    setResult(undefined);
    try {
      setResult(await api<Lookup>('GET', `/api/known-hashes/lookup${query({ digest: form.digest.trim(), pathB64: pathB64Of(form.path) })}`));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section>
      <h1>Known hashes</h1>
      {error !== '' && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void look();
        }}
      >
        <label class="wide">
          Digest{' '}
          <input
            name="digest"
            size={66}
            value={form.digest}
            onInput={(e) => setForm({ ...form, digest: e.currentTarget.value })}
            placeholder="SHA-256, SHA-1 or MD5"
          />
        </label>
        <label class="wide">
          Path{' '}
          <input
            name="path"
            value={form.path}
            onInput={(e) => setForm({ ...form, path: e.currentTarget.value })}
            placeholder="/usr/bin/ls (optional; b64:… for exact bytes)"
          />
        </label>
        <button type="submit">Look up</button>
      </form>
      {result !== undefined && (
        <div class="lookup">
          <p>
            <span class={`verdict verdict-${result.verdict}`}>{result.verdict}</span> <span class="value">{result.digest}</span>
            {result.path !== undefined && (
              <>
                {' at '}
                <span class="path">{result.path}</span>
                {result.pathExact === false && <span class="muted"> (non-UTF-8 bytes escaped)</span>}
              </>
            )}
          </p>
          <EvidenceRows title="On a bad list" rows={result.bad} />
          <EvidenceRows title="Known at this path" rows={result.atPath} />
          <EvidenceRows title="Known elsewhere" rows={result.elsewhere} />
        </div>
      )}
      <h2>Sources</h2>
      {stats === undefined ? (
        <p class="muted">{error === '' ? 'Loading…' : 'No known-hash database.'}</p>
      ) : (
        <>
          <p>
            {stats.knownRows.toLocaleString()} known digests, {stats.badRows.toLocaleString()} bad, {stats.paths.toLocaleString()} paths,{' '}
            {stats.packages.toLocaleString()} packages.
          </p>
          <table class="sources">
            <thead>
              <tr>
                <th>Kind</th>
                <th>Name</th>
                <th>Host</th>
                <th>Imported</th>
                <th class="num">Rows</th>
              </tr>
            </thead>
            <tbody>
              {stats.sources.map((s) => (
                <tr>
                  <td>{s.kind}</td>
                  <td>{s.name}</td>
                  <td>{s.host ?? <span class="muted">any</span>}</td>
                  <td>
                    <Time iso={s.importedAt} />
                  </td>
                  <td class="num">{s.rows.toLocaleString()}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
