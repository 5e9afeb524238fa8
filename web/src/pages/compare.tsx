// Two or more runs side by side: the params and key-record fields that differ (as `rethink diff`
// names them), which outputs are the same, their metrics, and their curves overlaid.
import type { Comparison } from '../../../src/ui/api';
import { Async } from '../components/async';
import { cell, shortHash } from '../format';
import { Link, useLocation } from '../router';
import { useApi } from '../use-api';
import { CurvesOf } from './curves';

export function ComparePage() {
  const keys = (useLocation().query.get('keys') ?? '').split(',').filter((k) => k !== '');
  const cmp = useApi<Comparison>(keys.length < 2 ? null : `/api/compare?keys=${keys.join(',')}`);
  return (
    <>
      <h1>Compare runs</h1>
      {keys.length < 2 ? (
        <p>Choose two or more runs to compare: tick them in a pipeline's instance list.</p>
      ) : (
        <Async value={cmp}>{(c) => <CompareView cmp={c} />}</Async>
      )}
    </>
  );
}

function CompareView({ cmp }: { cmp: Comparison }) {
  const head = (
    <thead>
      <tr>
        <th scope="col">Field</th>
        {cmp.runs.map((r) => (
          <th key={r.key} scope="col">
            <Link href={`/runs/${r.key}`}>{r.id ?? `${r.stage} ${shortHash(r.key)}`}</Link>
          </th>
        ))}
      </tr>
    </thead>
  );
  return (
    <>
      <h2>What differs</h2>
      {cmp.params.length === 0 ? (
        <p>Their params and key records are the same.</p>
      ) : (
        <table class="data compare-params">
          <caption class="sr-only">Params and key-record fields that differ</caption>
          {head}
          <tbody>
            {cmp.params.map((p) => (
              <tr key={p.path}>
                <th scope="row">
                  <code>{p.path}</code>
                </th>
                {p.values.map((v, i) => (
                  <td key={i}>
                    <code>{cell(v)}</code>
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Outputs</h2>
      <table class="data compare-outputs">
        <caption class="sr-only">Outputs, same or different</caption>
        {head}
        <tbody>
          {cmp.outputs.map((o) => (
            <tr key={o.name} class={o.same ? 'same' : 'differs'}>
              <th scope="row">
                <code>{o.name}</code> {o.same ? '(same)' : '(differs)'}
              </th>
              {o.hashes.map((h, i) => (
                <td key={i}>{h === null ? '—' : <code title={h}>{shortHash(h)}</code>}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {cmp.metrics.length > 0 && (
        <>
          <h2>Metrics</h2>
          <table class="data compare-metrics">
            <caption class="sr-only">Metrics</caption>
            {head}
            <tbody>
              {cmp.metrics.map((m) => (
                <tr key={m.path}>
                  <th scope="row">
                    <code>{m.path}</code>
                  </th>
                  {m.values.map((v, i) => (
                    <td key={i} class="num">
                      {cell(v)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h2>Curves</h2>
      <CurvesOf keys={cmp.runs.map((r) => r.key)} pipeline={null} />
    </>
  );
}
