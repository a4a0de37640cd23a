import { useEffect, useState } from 'preact/hooks';
import { api, fileLink, query } from '../api.js';

interface Verdict {
  readonly verdict: string;
  readonly package?: string;
  readonly version?: string;
  readonly source?: string;
}

interface Group {
  readonly type: string;
  readonly sha256?: string;
  readonly mode: string;
  readonly perm: string;
  readonly uid: number;
  readonly gid: number;
  readonly uname?: string;
  readonly gname?: string;
  readonly size: number;
  readonly hostCount: number;
  readonly hosts: readonly { id: string; name: string }[];
  readonly verdict?: Verdict;
}

interface PathAnswer {
  readonly path: string;
  readonly pathB64: string;
  readonly pathExact: boolean;
  readonly hostCount: number;
  readonly groupCount: number;
  readonly groups: readonly Group[];
  readonly nextOffset?: number;
}

interface Hit {
  readonly agentId: string;
  readonly agentName: string;
  readonly path: string;
  readonly pathB64: string;
  readonly perm: string;
  readonly uid: number;
  readonly gid: number;
  readonly uname?: string;
  readonly gname?: string;
  readonly size: number;
}

const owner = (x: { uid: number; gid: number; uname?: string; gname?: string }): string => `${x.uname ?? x.uid}:${x.gname ?? x.gid}`;

function VerdictText({ verdict }: { verdict: Verdict | undefined }) {
  if (verdict === undefined) return <span class="muted">no change recorded</span>;
  const evidence = [
    verdict.package === undefined ? undefined : `${verdict.package}${verdict.version === undefined ? '' : ` ${verdict.version}`}`,
    verdict.source,
  ].filter((x) => x !== undefined);
  return (
    <span>
      <span class={`verdict verdict-${verdict.verdict}`}>{verdict.verdict}</span>
      {evidence.length > 0 && <span class="muted"> {evidence.join(' · ')}</span>}
    </span>
  );
}

/** "Which hosts differ at this path?": the hosts grouped by what they have there, the odd ones out first. */
function PathGroups({ pathB64 }: { pathB64: string }) {
  const [answer, setAnswer] = useState<PathAnswer>();
  const [groups, setGroups] = useState<Group[]>([]);
  const [error, setError] = useState('');
  const load = async (offset: number): Promise<void> => {
    try {
      const page = await api<PathAnswer>('GET', `/api/search/path${query({ pathB64, offset, limit: 20 })}`);
      setAnswer(page);
      setGroups((old) => (offset === 0 ? [...page.groups] : [...old, ...page.groups]));
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => void load(0), [pathB64]);
  if (error !== '') return <p class="error">{error}</p>;
  if (answer === undefined) return <p class="loading">Searching…</p>;
  const largest = Math.max(0, ...groups.map((g) => g.hostCount));
  return (
    <>
      <h2>
        <span class="path">{answer.path}</span> on {answer.hostCount} host(s): {answer.groupCount} version(s)
      </h2>
      {!answer.pathExact && <p class="muted">The name is not plain UTF-8: non-printing bytes are shown as \xNN.</p>}
      {answer.hostCount === 0 && <p class="muted">No host has this path in its baseline.</p>}
      {groups.map((g) => (
        <article class={`group ${g.hostCount < largest ? 'odd' : 'majority'}`} data-sha256={g.sha256 ?? ''}>
          <header>
            <strong>{g.hostCount}</strong> host(s) · <span class="value">{g.sha256 ?? `(${g.type}, no content digest)`}</span>
          </header>
          <p>
            {g.type} {g.perm} ({g.mode}) {owner(g)} · {g.size.toLocaleString()} bytes · known-hash verdict: <VerdictText verdict={g.verdict} />
          </p>
          <p class="hosts">
            {g.hosts.map((h) => (
              <a class="host" href={fileLink(h.id, answer.pathB64)}>
                {h.name}
              </a>
            ))}
            {g.hostCount > g.hosts.length && <span class="muted"> and {g.hostCount - g.hosts.length} more</span>}
          </p>
        </article>
      ))}
      {answer.nextOffset !== undefined && (
        <button type="button" class="more" onClick={() => void load(answer.nextOffset ?? 0)}>
          More versions
        </button>
      )}
    </>
  );
}

/** "Which hosts have this content?": every baseline entry with the digest, by host. */
function DigestHits({ digest }: { digest: string }) {
  const [hits, setHits] = useState<Hit[]>([]);
  const [kind, setKind] = useState('');
  const [next, setNext] = useState<string>();
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const load = async (after?: string): Promise<void> => {
    try {
      const page = await api<{ digest: string; hits: Hit[]; next?: string }>('GET', `/api/search/digest${query({ digest, after, limit: 100 })}`);
      setKind(page.digest);
      setHits((old) => (after === undefined ? page.hits : [...old, ...page.hits]));
      setNext(page.next);
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
    setDone(true);
  };
  useEffect(() => void load(), [digest]);
  if (error !== '') return <p class="error">{error}</p>;
  if (!done) return <p class="loading">Searching…</p>;
  return (
    <>
      <h2>
        Hosts with {kind} <span class="value">{digest}</span>
      </h2>
      {hits.length === 0 ? (
        <p class="muted">No host has this content in its baseline.</p>
      ) : (
        <table class="hits">
          <thead>
            <tr>
              <th>Host</th>
              <th>Path</th>
              <th>Mode</th>
              <th>Owner</th>
              <th class="num">Size</th>
            </tr>
          </thead>
          <tbody>
            {hits.map((h) => (
              <tr>
                <td>{h.agentName}</td>
                <td>
                  <a class="path" href={fileLink(h.agentId, h.pathB64)}>
                    {h.path}
                  </a>{' '}
                  <a class="muted" href={`#/search${query({ pathB64: h.pathB64 })}`} title="compare this path across the fleet">
                    (fleet)
                  </a>
                </td>
                <td>{h.perm}</td>
                <td>{owner(h)}</td>
                <td class="num">{h.size.toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next !== undefined && (
        <button type="button" class="more" onClick={() => void load(next)}>
          More
        </button>
      )}
    </>
  );
}

/** Fleet search: a digest (md5, sha1, sha256) finds the hosts with that content; a path compares the hosts at it. */
export function SearchPage({ params }: { params: URLSearchParams }) {
  const pathB64 = params.get('pathB64') ?? '';
  const digest = params.get('digest') ?? '';
  const [text, setText] = useState(
    digest !== '' ? digest : pathB64 !== '' ? new TextDecoder().decode(Uint8Array.from(atob(pathB64), (c) => c.charCodeAt(0))) : '',
  );
  const [error, setError] = useState('');
  const submit = (e: Event): void => {
    e.preventDefault();
    const value = text.trim();
    if (value.startsWith('/')) {
      // The path's UTF-8 bytes, as base64: the API takes exact bytes.
      location.hash = `#/search${query({ pathB64: btoa(String.fromCharCode(...new TextEncoder().encode(value))) })}`;
    } else if (/^([0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(value)) {
      location.hash = `#/search${query({ digest: value.toLowerCase() })}`;
    } else {
      setError('Enter an absolute path, or an MD5, SHA-1 or SHA-256 in hex.');
      return;
    }
    setError('');
  };
  return (
    <section>
      <h1>Fleet search</h1>
      <form class="filters search" onSubmit={submit}>
        <label class="wide">
          Path or digest
          <input name="q" value={text} placeholder="/usr/sbin/sshd or a SHA-256" onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <button type="submit">Search</button>
      </form>
      {error !== '' && <p class="error">{error}</p>}
      {pathB64 !== '' && <PathGroups pathB64={pathB64} />}
      {pathB64 === '' && digest !== '' && <DigestHits digest={digest} />}
    </section>
  );
}
