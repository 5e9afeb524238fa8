// A page's data as a value: loading, failed (with the server's message) or loaded; re-fetched when
// the path changes, the stale request aborted.
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api';

export type Loadable<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'failed'; readonly error: Error }
  | { readonly state: 'ok'; readonly value: T };

/** GETs `path` (null: nothing to fetch yet, stays loading). */
export function useApi<T>(path: string | null): Loadable<T> {
  const [value, setValue] = useState<Loadable<T>>({ state: 'loading' });
  useEffect(() => {
    if (path === null) return;
    const abort = new AbortController();
    setValue({ state: 'loading' });
    getJson<T>(path, abort.signal).then(
      (v) => setValue({ state: 'ok', value: v }),
      (e: unknown) => {
        if (!abort.signal.aborted) setValue({ state: 'failed', error: e instanceof Error ? e : new Error(String(e)) });
      },
    );
    return () => abort.abort();
  }, [path]);
  return value;
}
