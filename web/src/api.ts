/**
 * Talking to the API: the bearer token (kept in sessionStorage: gone when the tab closes), JSON calls with
 * the server's error shape, and downloads (fetched with the token, handed to the browser as a blob, since a
 * plain link cannot carry an Authorization header).
 */

const KEY = 'apiwarden.token';

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  } catch {
    // storage refused (private mode): the token lives for this page only
  }
  memory = token;
}

let memory: string | null = null;
const token = () => getToken() ?? memory;

/**
 * `#token=...` in the address (the demo prints such a link): taken into the session and removed from the
 * address bar and the history entry at once, so it is not left on screen or in the history.
 */
export function takeTokenFromUrl(): boolean {
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (m === null) return false;
  setToken(decodeURIComponent(m[1]!));
  history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  return true;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Called when the server says the token is not (or no longer) valid. */
let onUnauthorized: () => void = () => {};
export const setUnauthorizedHandler = (f: () => void) => {
  onUnauthorized = f;
};

async function send(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const t = token();
  if (t !== null) headers.set('authorization', `Bearer ${t}`);
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', `the server cannot be reached (${(e as Error).message})`);
  }
  if (res.ok) return res;
  let code = 'error';
  let message = `${res.status} ${res.statusText}`;
  let field: string | undefined;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; field?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    field = body.error?.field;
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 401) onUnauthorized();
  throw new ApiError(res.status, code, message, field);
}

export async function get<T>(path: string): Promise<T> {
  return (await (await send(path)).json()) as T;
}

export async function post<T>(path: string, body: unknown = {}): Promise<T> {
  const res = await send(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as T;
}

/** The file name of a content-disposition header (only safe characters kept), or the fallback. */
function fileName(disposition: string | null, fallback: string): string {
  const m = /filename="?([^";]+)"?/i.exec(disposition ?? '');
  const name = (m?.[1] ?? fallback).replace(/[^\w.-]/g, '_');
  return name === '' ? fallback : name;
}

/** Fetches `path` with the token and saves it as a file. */
export async function download(path: string, fallback: string): Promise<string> {
  const res = await send(path);
  const blob = await res.blob();
  const name = fileName(res.headers.get('content-disposition'), fallback);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}

/** A path segment or query value, encoded. */
export const enc = encodeURIComponent;
