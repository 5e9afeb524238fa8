// A stage's sweep table (what `rethink results` prints): sort by any column, filter by the matrix
// axes, summarise --over an axis (seed), choose the columns, download it as CSV. All of it in the URL.
import { useCallback, useEffect, useMemo } from 'preact/hooks';
import type { Sweep } from '../../../src/ui/api';
import { seg, withToken } from '../api';
import { Async } from '../components/async';
import { SortableTable } from '../components/sortable-table';
import { cell } from '../format';
import { Link, navigate, useLocation, withQuery, type Location } from '../router';
import { useApi } from '../use-api';

export function SweepPage({ pipeline, stage }: { pipeline: string; stage: string }) {
  const loc = useLocation();
  const over = loc.query.get('over');
  // What the server computes (the summary, the output, its columns) is its query; the rest is the page's.
  const server = new URLSearchParams(
    (['over', 'output', 'metrics'] as const).flatMap((k) => {
      const v = loc.query.get(k);
      return v === null ? [] : [[k, v]];
    }),
  ).toString();
  const path = `/api/pipelines/${seg(pipeline)}/sweep/${seg(stage)}`;
  const sweep = useApi<Sweep>(`${path}${server === '' ? '' : `?${server}`}`);
  return (
    <>
      <p class="crumbs">
        <Link href={`/pipelines/${seg(pipeline)}`}>{pipeline}</Link> › sweep
      </p>
      <h1>
        Sweep of <code>{stage}</code>
      </h1>
      <Async value={sweep}>{(s) => <SweepView sweep={s} loc={loc} csv={withToken(`${path}.csv${server === '' ? '' : `?${server}`}`)} over={over} />}</Async>
    </>
  );
}

function SweepView({ sweep, loc, csv, over }: { sweep: Sweep; loc: Location; csv: string; over: string | null }) {
  const columns = sweep.columns;
  const fieldColumns = columns.filter((c) => !sweep.axes.includes(c));
  const choosable = [...new Set([...fieldColumns, ...sweep.fields])];
  const matrixAxes = sweep.axes.filter((a) => sweep.rows.some((r) => a in r.cells));
  const filters = matrixAxes.flatMap((a) => {
    const v = loc.query.get(`where.${a}`);
    return v === null ? [] : [[a, v] as const];
  });
  const rows = useMemo(() => sweep.rows.filter((r) => filters.every(([a, v]) => cell(r.cells[a] ?? null) === v)), [sweep, loc]);
  const numeric = useMemo(() => {
    const n = new Set(sweep.columns.filter((c) => sweep.rows.some((r) => typeof r.cells[c] === 'number')));
    return (c: string) => n.has(c);
  }, [sweep]);
  // How long the table takes to draw once its data is here (`rethink ui`'s goal: < 200 ms for 500
  // rows): its first screen, and all of its rows. scripts/bench-ui.mjs reads these marks.
  useMemo(() => performance.mark('rethink:sweep-render-start'), [sweep]);
  useEffect(() => {
    performance.mark('rethink:sweep-rendered');
  }, [sweep]);
  const complete = useCallback(() => {
    if (performance.getEntriesByName('rethink:sweep-complete').length === 0) performance.mark('rethink:sweep-complete');
  }, []);
  const set = (changes: Record<string, string | null>) => navigate(withQuery(loc, changes), { replace: true });
  const overChoices = [...new Set([...sweep.axes.filter((a) => a === 'seed'), ...(over === null ? [] : [over]), ...matrixAxes])];
  return (
    <>
      <form class="controls" onSubmit={(e) => e.preventDefault()}>
        <label>
          Summarise over{' '}
          <select value={over ?? ''} onChange={(e) => set({ over: e.currentTarget.value })}>
            <option value="">(each instance)</option>
            {overChoices.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        {matrixAxes.map((a) => {
          const values = [...new Set(sweep.rows.map((r) => cell(r.cells[a] ?? null)))].sort((x, y) => x.localeCompare(y, undefined, { numeric: true }));
          return (
            <label key={a}>
              {a}{' '}
              <select value={loc.query.get(`where.${a}`) ?? ''} onChange={(e) => set({ [`where.${a}`]: e.currentTarget.value })}>
                <option value="">all</option>
                {values.map((v) => (
                  <option key={v} value={v}>
                    {v}
                  </option>
                ))}
              </select>
            </label>
          );
        })}
        <details class="columns">
          <summary>
            Columns ({fieldColumns.length}/{choosable.length})
          </summary>
          <fieldset>
            <legend class="sr-only">Output fields shown as columns</legend>
            {choosable.map((c) => (
              <label key={c}>
                <input
                  type="checkbox"
                  checked={fieldColumns.includes(c)}
                  onChange={(e) => {
                    const on = e.currentTarget.checked;
                    const next = choosable.filter((x) => (x === c ? on : fieldColumns.includes(x)));
                    set({ metrics: next.join(',') });
                  }}
                />{' '}
                {c}
              </label>
            ))}
          </fieldset>
        </details>
        <a class="button" href={csv} download>
          Download CSV
        </a>
      </form>
      <SortableTable<Sweep['rows'][number]>
        caption={`${rows.length} of ${sweep.rows.length} rows · output ${sweep.output}${over === null ? '' : ` · summarised over ${over}`}`}
        columns={columns}
        rows={rows}
        headTitle="instance"
        numeric={numeric}
        onComplete={complete}
        head={(r) => (r.key === null ? r.id : <Link href={`/runs/${r.key}`}>{r.id}</Link>)}
      />
      {sweep.missing.length > 0 && (
        <>
          <h2>Not in the table</h2>
          <ul class="missing">
            {sweep.missing.map((m) => (
              <li key={m.id}>
                <code>{m.id}</code>: {m.reason}
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}

