// Client-side routes with shareable URLs over the History API. Hand-written because the app needs
// only path matching, query state and link interception (~60 lines); a router package would be a new
// dependency for less than this file.
import { createContext } from 'preact';
import type { AnchorHTMLAttributes, ComponentChildren, TargetedMouseEvent } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';

export interface Location {
  readonly path: string;
  readonly query: URLSearchParams;
}

const current = (): Location => ({ path: location.pathname, query: new URLSearchParams(location.search) });
const RouteContext = createContext<Location>(current());

/** Goes to `href` inside the app (pushes history; `replace` for state changes such as a sort). */
export function navigate(href: string, { replace = false }: { replace?: boolean } = {}): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function RouterProvider({ children }: { children: ComponentChildren }) {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return <RouteContext.Provider value={loc}>{children}</RouteContext.Provider>;
}

export const useLocation = (): Location => useContext(RouteContext);

/** `href` with some query parameters set (a value of null or '' removes it). */
export function withQuery(loc: Location, changes: Readonly<Record<string, string | null>>): string {
  const q = new URLSearchParams(loc.query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  return s === '' ? loc.path : `${loc.path}?${s}`;
}

/** An in-app link: a real <a> (open in a new tab, copy the address), navigated without a reload. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const onClick = (e: TargetedMouseEvent<HTMLAnchorElement>) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.href);
  };
  return <a {...props} onClick={onClick} />;
}

/** Matches `path` against `/pipelines/:id/…` style patterns; the params decoded. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const names: string[] = [];
  const re = new RegExp(
    '^' + pattern.replace(/:(\w+)/g, (_, n: string) => (names.push(n), '([^/]+)')) + '/?$',
  );
  const m = re.exec(path);
  if (m === null) return null;
  return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
}
