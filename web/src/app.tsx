// The app's frame (header, navigation) and its routes. Every page is a URL that can be shared.
import type { ComponentChildren } from 'preact';
import { ComparePage } from './pages/compare';
import { CurvesPage } from './pages/curves';
import { LivePage } from './pages/live';
import { OverviewPage } from './pages/overview';
import { PipelinePage } from './pages/pipeline';
import { ReportPage } from './pages/report';
import { RunPage } from './pages/run';
import { SweepPage } from './pages/sweep';
import { Link, match, useLocation } from './router';

/** The page for a path; the server answers index.html for all of them. */
function page(path: string): ComponentChildren {
  let p: Record<string, string> | null;
  if (path === '/') return <OverviewPage />;
  if ((p = match('/pipelines/:id', path))) return <PipelinePage key={p['id']} id={p['id']!} />;
  if ((p = match('/pipelines/:id/sweep/:stage', path))) return <SweepPage pipeline={p['id']!} stage={p['stage']!} />;
  if ((p = match('/pipelines/:id/curves/:stage', path))) return <CurvesPage pipeline={p['id']!} stage={p['stage']!} />;
  if ((p = match('/pipelines/:id/report', path))) return <ReportPage pipeline={p['id']!} />;
  if ((p = match('/runs/:key', path))) return <RunPage key={p['key']} runKey={p['key']!} />;
  if (match('/compare', path)) return <ComparePage />;
  if (match('/live', path)) return <LivePage />;
  return (
    <>
      <h1>Not found</h1>
      <p>
        No page at <code>{path}</code>. <Link href="/">Go to the pipelines.</Link>
      </p>
    </>
  );
}

export function App() {
  const loc = useLocation();
  const nav = (href: string, label: string, current: boolean) => (
    <Link href={href} aria-current={current ? 'page' : undefined}>
      {label}
    </Link>
  );
  return (
    <>
      <header class="top">
        <Link href="/" class="brand">
          rethink
        </Link>
        <nav aria-label="Main">
          {nav('/', 'Pipelines', loc.path === '/' || loc.path.startsWith('/pipelines'))}
          {nav('/live', 'Live', loc.path === '/live')}
          {nav('/compare', 'Compare', loc.path === '/compare')}
        </nav>
      </header>
      <main>{page(loc.path)}</main>
    </>
  );
}
