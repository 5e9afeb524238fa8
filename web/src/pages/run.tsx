// One run: metrics, params, key record, provenance, outputs (sizes, hashes, downloads, tensor
// previews), its log and its curves.
import { useState } from 'preact/hooks';
import type { OutputInfo, RunDetail } from '../../../src/ui/api';
import { seg, withToken } from '../api';
import { Async } from '../components/async';
import { KvTable } from '../components/kv-table';
import { TensorPreviewView } from '../components/tensor-preview';
import { bytes, shortHash } from '../format';
import { Link } from '../router';
import { useApi } from '../use-api';
import { CurvesOf } from './curves';

export function RunPage({ runKey }: { runKey: string }) {
  const run = useApi<RunDetail>(`/api/runs/${seg(runKey)}`);
  return <Async value={run}>{(r) => <RunView run={r} />}</Async>;
}

function RunView({ run }: { run: RunDetail }) {
  return (
    <>
      {run.pipeline !== null && (
        <p class="crumbs">
          <Link href={`/pipelines/${seg(run.pipeline)}`}>{run.pipeline}</Link> › run
        </p>
      )}
      <h1>{run.instance ?? run.stage}</h1>
      <p class="muted">
        <code>{run.plugin}</code> · key <code title={run.key}>{shortHash(run.key)}</code>
      </p>
      {run.hasCurves && (
        <section>
          <h2>Curves</h2>
          <CurvesOf keys={[run.key]} pipeline={null} />
        </section>
      )}
      <div class="grid">
        {run.metrics !== null && <KvTable record={run.metrics} caption="Metrics" />}
        <KvTable record={run.params} caption="Params" />
        <KvTable record={run.provenance} caption="Provenance" />
        <KvTable record={run.keyRecord} caption="Key record (what the key hashes)" />
      </div>
      <h2>Outputs</h2>
      <table class="data outputs">
        <caption class="sr-only">Outputs</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col" class="num">Size</th>
            <th scope="col">Hash</th>
            <th scope="col">Download</th>
          </tr>
        </thead>
        <tbody>
          {run.outputs.map((o) => (
            <OutputRow key={o.name} output={o} runKey={run.key} />
          ))}
        </tbody>
      </table>
      <h2>Log</h2>
      {run.log === null ? <p class="muted">No log kept.</p> : <pre class="log">{run.log}</pre>}
    </>
  );
}

function OutputRow({ output: o, runKey }: { output: OutputInfo; runKey: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <tr>
        <th scope="row">
          <code>{o.name}</code>
        </th>
        <td>{o.kind}</td>
        <td class="num">{bytes(o.bytes)}</td>
        <td>
          <code title={o.hash}>{shortHash(o.hash)}</code>
        </td>
        <td>
          <a href={withToken(o.href)} download>
            download
          </a>
          {o.kind === 'tensors' && (
            <>
              {' '}
              ·{' '}
              <button type="button" class="link" aria-expanded={open} onClick={() => setOpen(!open)}>
                {open ? 'hide preview' : 'preview'}
              </button>
            </>
          )}
        </td>
      </tr>
      {o.tensors !== undefined && (
        <tr class="sub">
          <td colSpan={5}>
            {o.tensors.map((t) => `${t.name} ${t.dtype}[${t.shape.join(',')}]`).join(' · ')}
          </td>
        </tr>
      )}
      {open && (
        <tr class="sub">
          <td colSpan={5}>
            <TensorPreviewView href={`/api/runs/${seg(runKey)}/outputs/${seg(o.name)}/preview`} />
          </td>
        </tr>
      )}
    </>
  );
}
