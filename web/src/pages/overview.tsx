// The start page: the cache and remote being read, instances per state, and each pipeline.
import type { InstanceState, Overview } from '../../../src/ui/api';
import { Async } from '../components/async';
import { STATE_LABEL } from '../components/dag';
import { Link } from '../router';
import { useApi } from '../use-api';
import { seg } from '../api';
import { useEffect } from 'preact/hooks';

export function OverviewPage() {
  const overview = useApi<Overview>('/api/overview');
  // The first render with data, read by the page-load measurement (goal: under 1 s).
  useEffect(() => {
    if (overview.state === 'ok') performance.mark('rethink:overview-rendered');
  }, [overview.state]);
  return (
    <>
      <h1>Pipelines</h1>
      <Async value={overview}>
        {(o) => (
          <>
            <p class="muted">
              Cache <code>{o.cacheDir}</code>
              {o.remote !== null && (
                <>
                  {' '}· remote <code>{o.remote}</code>
                </>
              )}
            </p>
            <StateCounts counts={o.counts} />
            {o.pipelines.length === 0 ? (
              <p>No pipelines found. Name pipeline files on the command line: <code>rethink ui pipelines/quick.yaml</code>.</p>
            ) : (
              <table class="data">
                <caption class="sr-only">Pipelines</caption>
                <thead>
                  <tr>
                    <th scope="col">Pipeline</th>
                    <th scope="col">File</th>
                    <th scope="col" class="num">Stages</th>
                    <th scope="col" class="num">Instances</th>
                  </tr>
                </thead>
                <tbody>
                  {o.pipelines.map((p) => (
                    <tr key={p.id}>
                      <td>
                        <Link href={`/pipelines/${seg(p.id)}`}>{p.name}</Link>
                      </td>
                      <td>
                        <code>{p.file}</code>
                      </td>
                      <td class="num">{p.stages}</td>
                      <td class="num">{p.instances}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </Async>
    </>
  );
}

export function StateCounts({ counts }: { counts: Readonly<Record<InstanceState, number>> }) {
  return (
    <ul class="counts" aria-label="Instances by state">
      {(Object.keys(STATE_LABEL) as InstanceState[]).map((s) => (
        <li key={s} class={`state-${s}`}>
          <span class="dot" aria-hidden="true" /> {STATE_LABEL[s]} <strong>{counts[s]}</strong>
        </li>
      ))}
    </ul>
  );
}
