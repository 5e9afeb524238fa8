// GET /api/report/:pipeline: the figures `rethink export report` puts on its page (the Vega-Lite specs
// the `figure` and `chart` stages write, data inlined), with the provenance of the newest of them
// (rethink and node versions, machine, backend, git commit).
import type { Report } from '../../ui/api.js';
import type { JsonValue } from '../../plugin/types.js';
import { isObject } from './run-metrics.js';
import type { UiData } from './ui-data.js';

/** Provenance fields that time one run (as `rethink diff` leaves them out): they stay on the run pages. */
const TIMING = /seconds$|^kernel_tuning$|^resumed_after_epoch$|^attempts$/;

export async function report(data: UiData, id: string): Promise<Report> {
  const p = await data.pipeline(id);
  const states = await data.states(p);
  const figures: { title: string; stage: string; spec: Record<string, unknown> }[] = [];
  let provenance: Record<string, unknown> = {};
  let newest = '';
  for (const s of states) {
    if (s.status !== 'up-to-date') continue;
    const inst = p.ws.plan.instances.get(s.id)!;
    if (inst.plugin.outputs['spec']?.kind !== 'json') continue;
    const record = await data.store.readRun(s.key!);
    const ref = record?.outputs['spec'];
    if (record === undefined || ref === undefined) continue;
    const spec = data.readJson(ref);
    if (!isObject(spec) || !String(spec['$schema'] ?? '').includes('vega-lite')) continue;
    figures.push({ title: titleOf(spec) ?? s.id, stage: s.id, spec });
    if (record.startedAt > newest) {
      newest = record.startedAt;
      provenance = Object.fromEntries(Object.entries(record.provenance).filter(([k]) => !TIMING.test(k)));
    }
  }
  return { format: 1, pipeline: p.id, figures, provenance: { pipelineFile: p.display, ...(newest ? { ranAt: newest } : {}), ...provenance } };
}

function titleOf(spec: { readonly [k: string]: JsonValue }): string | undefined {
  const t = spec['title'];
  if (typeof t === 'string') return t;
  return isObject(t) && typeof t['text'] === 'string' ? t['text'] : undefined;
}
