/** The console's one way to the manager: same-origin JSON, the CSRF token on every change. */

export interface Session {
  readonly user: string;
  readonly role: 'admin' | 'viewer';
  readonly csrfToken: string;
  readonly expiresAt: string;
}

/** An API refusal: its HTTP status and the manager's message. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

let csrfToken = '';
let onSignedOut: () => void = () => undefined;

/** Remembers the session's CSRF token (from sign-in or GET /api/session). */
export function useSession(session: Session | undefined): void {
  csrfToken = session?.csrfToken ?? '';
}

/** What to do when the manager says the session is gone (401). */
export function whenSignedOut(handler: () => void): void {
  onSignedOut = handler;
}

/** Calls the API; throws an ApiError with the manager's message when it refuses. */
export async function api<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const data = (await response.json().catch(() => ({}))) as { error?: string };
  if (!response.ok) {
    if (response.status === 401 && path !== '/api/session') onSignedOut();
    throw new ApiError(response.status, data.error ?? `${response.status} ${response.statusText}`);
  }
  return data as T;
}

/** Builds a query string from the parameters that are set. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') q.set(key, String(value));
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

/** An alert line as GET /api/alerts and the live stream send it. */
export interface AlertLine {
  readonly id: string;
  readonly ts: string;
  readonly agentId: string;
  readonly agentName: string;
  readonly ruleId: number;
  readonly level: number;
  readonly description: string;
  readonly event?: string;
  readonly path?: string;
  readonly pathB64?: string;
  readonly pathExact?: boolean;
  readonly verdict?: string;
  readonly ack?: { readonly by: string; readonly at: string; readonly note?: string };
}

/** Builds the hash link of a file's page. */
export function fileLink(agentId: string, pathB64: string): string {
  return `#/file${query({ agent: agentId, path: pathB64 })}`;
}
