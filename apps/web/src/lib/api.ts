/**
 * The one way the UI talks to the server: JSON in and out, the access token from memory, one
 * silent refresh (httpOnly cookie) on a 401, and every failure as an ApiError in the server's
 * error format `{ error: { code, message, details } }`.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown,
  ) {
    super(message);
  }

  /** Per-field messages of a validation error (details: [{ field, message }]). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    if (Array.isArray(this.details))
      for (const d of this.details as { field?: string; message?: string }[]) if (d.field && d.message && !out[d.field]) out[d.field] = d.message;
    return out;
  }
}

let accessToken: string | null = null;
let onSignedOut: () => void = () => undefined;
const tokenListeners = new Set<(token: string | null) => void>();

function changeToken(token: string | null): void {
  if (token === accessToken) return;
  accessToken = token;
  for (const fn of tokenListeners) fn(token);
}

export function setAccessToken(token: string | null): void {
  changeToken(token);
}

/** Calls `fn` whenever the access token changes (sign-in, refresh, switch, sign-out); returns the unsubscribe. */
export function onTokenChange(fn: (token: string | null) => void): () => void {
  tokenListeners.add(fn);
  return () => tokenListeners.delete(fn);
}

/** The current access token (for downloads the browser makes itself). */
export function currentToken(): string | null {
  return accessToken;
}

export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

let refreshing: Promise<boolean> | null = null;

/** Trades the refresh cookie for a new access token; false when there is no session. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/api/v1/auth/refresh', { method: 'POST', credentials: 'same-origin' })
    .then(async (r) => {
      if (!r.ok) return false;
      const body = (await r.json()) as { data: { accessToken: string } };
      changeToken(body.data.accessToken);
      return true;
    })
    .catch(() => false)
    .finally(() => (refreshing = null));
  return refreshing;
}

export interface RequestOptions {
  /**
   * The version the change is based on (a flow's, model's, agent's or action's `version`, a
   * record's `updatedAt`): sent as If-Match, so a change someone else made in between is answered
   * 412 PRECONDITION_FAILED (see isConflict) instead of being overwritten.
   */
  ifMatch?: string | number;
}

/** Whether an error is a 412: the resource changed since it was read; details.currentVersion says to what. */
export function isConflict(e: unknown): e is ApiError & { details: { currentVersion: string | number; etag: string } } {
  return e instanceof ApiError && e.status === 412;
}

async function send(method: string, path: string, body: unknown, opts: RequestOptions): Promise<Response> {
  return fetch(`/api/v1${path}`, {
    method,
    credentials: 'same-origin',
    // NB: no-store: a read is always answered by the server, never by the browser's cache (an
    // editor opened on an old copy would save it as the newest version).
    cache: 'no-store',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}),
      ...(opts.ifMatch !== undefined ? { 'if-match': `"${opts.ifMatch}"` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

export async function api<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  let res = await send(method, path, body, opts);
  if (res.status === 401 && accessToken && !path.startsWith('/auth/')) {
    if (await refreshSession()) res = await send(method, path, body, opts);
    else {
      changeToken(null);
      onSignedOut();
    }
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    throw new ApiError(res.status, e?.code ?? 'HTTP_ERROR', e?.message ?? `The server answered ${res.status}.`, e?.details ?? null);
  }
  return json as T;
}

/**
 * POSTs JSON and reads the answer as server-sent events (`event:` / `data:` blocks), calling
 * `onEvent` for each as it arrives. Errors before the stream starts throw an ApiError.
 */
export async function streamEvents(path: string, body: unknown, onEvent: (event: string, data: unknown) => void, signal?: AbortSignal): Promise<void> {
  const go = () =>
    fetch(`/api/v1${path}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  let res = await go();
  if (res.status === 401 && accessToken && (await refreshSession())) res = await go();
  if (!res.ok || !res.body) {
    const e = ((await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string; details?: unknown } }).error;
    throw new ApiError(res.status, e?.code ?? 'HTTP_ERROR', e?.message ?? `The server answered ${res.status}.`, e?.details ?? null);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(event, JSON.parse(data.join('\n')) as unknown);
    }
  }
}

export interface ListMeta {
  total: number | null;
  limit: number;
  offset: number;
  nextCursor: string | null;
}
export interface List<T> {
  data: T[];
  meta: ListMeta;
}
