// The browser side of src/ui/api.ts: typed GETs against the server, its errors as values a page can
// show, and the access token (for `--host` other than loopback) carried on every URL the app makes.
import type { ApiError } from '../../src/ui/api';

/** A failed request: the server's ApiError (code, message) or a network failure (status 0). */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

const TOKEN_KEY = 'rethink.token';

/**
 * The token the page was opened with (`?token=T`, as `rethink ui --host` prints it), kept for the
 * session so in-app navigation does not lose it. EventSource and download links cannot send headers,
 * so it travels as a query parameter everywhere.
 */
function token(): string | null {
  const fromUrl = new URLSearchParams(location.search).get('token');
  if (fromUrl !== null) sessionStorage.setItem(TOKEN_KEY, fromUrl);
  return fromUrl ?? sessionStorage.getItem(TOKEN_KEY);
}

/** `url` with the access token added, when there is one. */
export function withToken(url: string): string {
  const t = token();
  if (t === null) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(t)}`;
}

/** The path segment for a name (pipeline ids, stage names, output names). */
export const seg = encodeURIComponent;

export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(withToken(path), { headers: { accept: 'application/json' }, ...(signal === undefined ? {} : { signal }) });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiFailure(0, 'E_NETWORK', `could not reach the rethink ui server (${e instanceof Error ? e.message : String(e)})`);
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (body as ApiError | null)?.error;
    throw new ApiFailure(res.status, err?.code ?? `HTTP_${res.status}`, err?.message ?? `${res.status} ${res.statusText} for ${path}`);
  }
  return body as T;
}
