// The figures of `rethink export report` with their provenance.
import type { Report } from '../../../src/ui/api';
import { seg } from '../api';
import { Async } from '../components/async';
import { KvTable } from '../components/kv-table';
import { VegaChart } from '../components/vega-chart';
import { Link } from '../router';
import { useApi } from '../use-api';

export function ReportPage({ pipeline }: { pipeline: string }) {
  const report = useApi<Report>(`/api/report/${seg(pipeline)}`);
  return (
    <>
      <p class="crumbs">
        <Link href={`/pipelines/${seg(pipeline)}`}>{pipeline}</Link> › report
      </p>
      <h1>Report</h1>
      <Async value={report}>
        {(r) => (
          <>
            {r.figures.length === 0 ? (
              <p>This pipeline has no figure or chart stages that have run.</p>
            ) : (
              r.figures.map((f) => (
                <section key={`${f.stage}/${f.title}`}>
                  <h2>{f.title}</h2>
                  <p class="muted">
                    stage <code>{f.stage}</code>
                  </p>
                  <VegaChart spec={f.spec} label={f.title} />
                </section>
              ))
            )}
            <h2>Provenance</h2>
            <KvTable record={r.provenance} caption="How these results were made" />
          </>
        )}
      </Async>
    </>
  );
}
