// GET /api/overview: the pipelines shown, their sizes, and how many instances are in each state.
import type { InstanceState, Overview } from '../../ui/api.js';
import { instanceState, type LiveView } from './instance-state.js';
import type { UiData } from './ui-data.js';

export async function overview(data: UiData, live: LiveView | undefined): Promise<Overview> {
  const counts: Record<InstanceState, number> = { 'up-to-date': 0, stale: 0, running: 0, failed: 0, 'never-run': 0 };
  const pipelines = [];
  for (const p of await data.pipelines()) {
    const [states, refs] = await Promise.all([data.states(p), data.store.readRefs(p.ws.plan.pipeline)]);
    for (const s of states) counts[instanceState(s, refs[s.id] !== undefined, live)]++;
    const stages = new Set([...p.ws.plan.instances.values()].map((i) => i.stage)).size;
    pipelines.push({ id: p.id, file: p.display, name: p.ws.plan.name, stages, instances: p.ws.plan.order.length });
  }
  return { format: 1, cacheDir: data.local.location, remote: data.remote, pipelines, counts };
}
