// A pipeline: its DAG with every instance's state (kept current from the live stream), the stale
// reasons, and each stage's sweep table, curves and the report.
import type { DagNode, PipelineDag } from '../../../src/ui/api';
import { seg } from '../api';
import { Async } from '../components/async';
import { Dag, STATE_LABEL } from '../components/dag';
import { Link } from '../router';
import { useApi } from '../use-api';
import { useState } from 'preact/hooks';
import { useLive, type Live } from '../use-live';
import { StateCounts } from './overview';

/** The DAG's nodes with what the live stream has said since the page loaded. */
function withLive(nodes: readonly DagNode[], live: Live): DagNode[] {
  return nodes.map((n) => {
    const l = n.key === null ? undefined : live.runs.get(n.key);
    if (l === undefined) return n;
    const state = l.state ?? n.state;
    const { reason: _, progress: __, ...rest } = n;
    return {
      ...rest,
      state,
      ...(state === 'stale' || state === 'never-run' ? (n.reason === undefined ? {} : { reason: n.reason }) : {}),
      ...(state === 'running' && l.progress !== undefined ? { progress: l.progress } : {}),
    };
  });
}

export function PipelinePage({ id }: { id: string }) {
  const dag = useApi<PipelineDag>(`/api/pipelines/${seg(id)}`);
  const live = useLive();
  const [picked, setPicked] = useState<readonly string[]>([]);
  const pick = (key: string, on: boolean) => setPicked((p) => (on ? [...p, key] : p.filter((k) => k !== key)));
  return (
    <Async value={dag}>
      {(d) => {
        const nodes = withLive(d.nodes, live);
        const stages = [...new Map(nodes.map((n) => [n.stage, n.plugin])).entries()];
        const counts = { 'up-to-date': 0, stale: 0, running: 0, failed: 0, 'never-run': 0 };
        for (const n of nodes) counts[n.state]++;
        const base = `/pipelines/${seg(d.id)}`;
        return (
          <>
            <h1>{d.id}</h1>
            <p class="muted">
              <code>{d.file}</code> · <Link href={`${base}/report`}>report</Link> · <Link href="/live">live</Link>
            </p>
            <StateCounts counts={counts} />
            <h2>DAG</h2>
            <Dag dag={{ nodes, edges: d.edges }} />
            <h2>Stages</h2>
            <table class="data">
              <caption class="sr-only">Stages</caption>
              <thead>
                <tr>
                  <th scope="col">Stage</th>
                  <th scope="col">Plugin</th>
                  <th scope="col" class="num">Instances</th>
                  <th scope="col">Views</th>
                </tr>
              </thead>
              <tbody>
                {stages.map(([stage, plugin]) => (
                  <tr key={stage}>
                    <th scope="row">{stage}</th>
                    <td>
                      <code>{plugin}</code>
                    </td>
                    <td class="num">{nodes.filter((n) => n.stage === stage).length}</td>
                    <td>
                      <Link href={`${base}/sweep/${seg(stage)}`}>sweep table</Link> · <Link href={`${base}/curves/${seg(stage)}`}>curves</Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h2>Instances</h2>
            <p>
              <Link class={`button${picked.length < 2 ? ' disabled' : ''}`} href={`/compare?keys=${picked.join(',')}`} aria-disabled={picked.length < 2}>
                Compare {picked.length} selected
              </Link>
            </p>
            <table class="data instances">
              <caption class="sr-only">Stage instances and their state</caption>
              <thead>
                <tr>
                  <th scope="col">
                    <span class="sr-only">Compare</span>
                  </th>
                  <th scope="col">Instance</th>
                  <th scope="col">State</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {nodes.map((n) => (
                  <tr key={n.id} data-id={n.id}>
                    <td>
                      {n.key !== null && (
                        <input type="checkbox" aria-label={`compare ${n.id}`} checked={picked.includes(n.key)} onChange={(e) => pick(n.key!, e.currentTarget.checked)} />
                      )}
                    </td>
                    <td>{n.key === null ? n.id : <Link href={`/runs/${n.key}`}>{n.id}</Link>}</td>
                    <td class={`state-${n.state}`}>
                      <span class="dot" aria-hidden="true" /> {STATE_LABEL[n.state]}
                      {n.progress !== undefined && ` · epoch ${n.progress.epoch}/${n.progress.epochs}`}
                    </td>
                    <td>{n.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        );
      }}
    </Async>
  );
}
