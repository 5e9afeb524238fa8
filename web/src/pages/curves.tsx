// Learning curves of a stage's runs overlaid: pick the metric, x (epoch or step), the matrix axis that
// colours the lines, mean ± sd over seeds, log axes; the paper's values where the pipeline's `figure`
// stage has them. Also used by Compare (`keys` given instead of a stage).
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Curves, PipelineDag, Report } from '../../../src/ui/api';
import { getJson, seg } from '../api';
import { Async } from '../components/async';
import { VegaChart } from '../components/vega-chart';
import { curveSpec, METRIC_TITLE, metricsOf, type Metric } from '../curve-spec';
import { paperLossPerEpoch } from '../paper-values';
import { Link, navigate, useLocation, withQuery } from '../router';
import { useApi, type Loadable } from '../use-api';

export function CurvesPage({ pipeline, stage }: { pipeline: string; stage: string }) {
  const dag = useApi<PipelineDag>(`/api/pipelines/${seg(pipeline)}`);
  return (
    <>
      <p class="crumbs">
        <Link href={`/pipelines/${seg(pipeline)}`}>{pipeline}</Link> › curves
      </p>
      <h1>
        Curves of <code>{stage}</code>
      </h1>
      <Async value={dag}>
        {(d) => {
          const keys = d.nodes.flatMap((n) => (n.stage === stage && n.state === 'up-to-date' && n.key !== null ? [n.key] : []));
          return keys.length === 0 ? <p>No finished runs of {stage} yet.</p> : <CurvesOf keys={keys} pipeline={pipeline} />;
        }}
      </Async>
    </>
  );
}

/** Keys per /api/curves request: 100 keys make a 6.5 kB URL, well inside Node's 16 kB header limit. */
const KEYS_PER_REQUEST = 100;

/** The curves of many runs, asked for in batches so a 500-run sweep's URL stays short. */
function useCurves(keys: readonly string[]): Loadable<Curves[]> {
  const [value, setValue] = useState<Loadable<Curves[]>>({ state: 'loading' });
  const joined = keys.join(',');
  useEffect(() => {
    const abort = new AbortController();
    setValue({ state: 'loading' });
    const batches = Array.from({ length: Math.ceil(keys.length / KEYS_PER_REQUEST) }, (_, i) => keys.slice(i * KEYS_PER_REQUEST, (i + 1) * KEYS_PER_REQUEST));
    Promise.all(batches.map((b) => getJson<Curves[]>(`/api/curves?keys=${b.join(',')}`, abort.signal))).then(
      (parts) => setValue({ state: 'ok', value: parts.flat() }),
      (e: unknown) => {
        if (!abort.signal.aborted) setValue({ state: 'failed', error: e instanceof Error ? e : new Error(String(e)) });
      },
    );
    return () => abort.abort();
  }, [joined]);
  return value;
}

/** Curves of these runs with the page's controls; `pipeline` (if any) supplies the paper's values. */
export function CurvesOf({ keys, pipeline }: { keys: readonly string[]; pipeline: string | null }) {
  const curves = useCurves(keys);
  return <Async value={curves}>{(cs) => <CurvesView curves={cs} pipeline={pipeline} />}</Async>;
}

function CurvesView({ curves, pipeline }: { curves: readonly Curves[]; pipeline: string | null }) {
  const loc = useLocation();
  const q = loc.query;
  const withData = curves.filter((c) => c.epochs.length > 0 || c.steps.length > 0);
  const metrics = metricsOf(withData);
  const metric = (metrics.find((m) => m === q.get('metric')) ?? metrics[0] ?? 'loss') satisfies Metric;
  const x = q.get('x') === 'step' && withData.some((c) => c.steps.length > 0) ? 'step' : 'epoch';
  const axes = [...new Set(withData.flatMap((c) => Object.keys(c.matrix)))];
  const colorParam = q.get('color');
  const color = colorParam === 'run' ? null : colorParam !== null && axes.includes(colorParam) ? colorParam : (axes.find((a) => a !== 'seed') ?? null);
  const band = q.get('band') === '1' && axes.includes('seed');
  const logX = q.get('logx') === '1';
  const logY = q.get('logy') === '1';
  const report = useApi<Report>(pipeline === null ? null : `/api/report/${seg(pipeline)}`);
  const paperAll = useMemo(() => (report.state === 'ok' ? paperLossPerEpoch(report.value) : []), [report]);
  const showPaper = q.get('paper') !== '0' && metric === 'loss' && x === 'epoch';
  const spec = useMemo(
    () => curveSpec(withData, { metric, x, color, band, logX, logY, paper: showPaper ? paperAll : [] }),
    [curves, metric, x, color, band, logX, logY, showPaper, paperAll],
  );
  if (withData.length === 0) return <p>These runs recorded no learning curves.</p>;
  const set = (changes: Record<string, string | null>) => navigate(withQuery(loc, changes), { replace: true });
  return (
    <>
      <form class="controls" onSubmit={(e) => e.preventDefault()}>
        <label>
          Metric{' '}
          <select value={metric} onChange={(e) => set({ metric: e.currentTarget.value })}>
            {metrics.map((m) => (
              <option key={m} value={m}>
                {METRIC_TITLE[m]}
              </option>
            ))}
          </select>
        </label>
        <label>
          x{' '}
          <select value={x} onChange={(e) => set({ x: e.currentTarget.value })}>
            <option value="epoch">epoch</option>
            {withData.some((c) => c.steps.length > 0) && <option value="step">step</option>}
          </select>
        </label>
        <label>
          Colour by{' '}
          <select value={color ?? 'run'} onChange={(e) => set({ color: e.currentTarget.value })}>
            <option value="run">run</option>
            {axes.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        {axes.includes('seed') && (
          <label>
            <input type="checkbox" checked={band} onChange={(e) => set({ band: e.currentTarget.checked ? '1' : null })} /> mean ± sd over seeds
          </label>
        )}
        <label>
          <input type="checkbox" checked={logX} onChange={(e) => set({ logx: e.currentTarget.checked ? '1' : null })} /> log x
        </label>
        <label>
          <input type="checkbox" checked={logY} onChange={(e) => set({ logy: e.currentTarget.checked ? '1' : null })} /> log y
        </label>
        {paperAll.length > 0 && (
          <label>
            <input type="checkbox" checked={q.get('paper') !== '0'} onChange={(e) => set({ paper: e.currentTarget.checked ? null : '0' })} /> paper's values (training loss per epoch)
          </label>
        )}
      </form>
      <p class="muted">
        {withData.length} run{withData.length === 1 ? '' : 's'} · drag to pan, scroll to zoom, double-click to reset
      </p>
      <VegaChart spec={spec} label={`${METRIC_TITLE[metric]} per ${x} of ${withData.length} runs`} />
    </>
  );
}
