// GET /api/pipelines/:pipeline: every stage instance with its state (and why it would run, as
// `rethink status` says), and the instance-level edges between them.
import type { DagNode, PipelineDag } from '../../ui/api.js';
import { instanceState, type LiveView } from './instance-state.js';
import type { UiData } from './ui-data.js';

export async function pipelineDag(data: UiData, id: string, live: LiveView | undefined): Promise<PipelineDag> {
  const p = await data.pipeline(id);
  const { plan } = p.ws;
  const [states, refs] = await Promise.all([data.states(p), data.store.readRefs(plan.pipeline)]);
  const nodes: DagNode[] = states.map((s) => {
    const inst = plan.instances.get(s.id)!;
    const state = instanceState(s, refs[s.id] !== undefined, live);
    const progress = s.key === null ? undefined : live?.progressOf(s.key);
    const reasons = s.runningIn === undefined ? s.reasons : [...s.reasons, `running now in ${s.runningIn}`];
    return {
      id: s.id,
      stage: inst.stage,
      plugin: inst.plugin.name,
      matrix: inst.matrix,
      key: s.key,
      state,
      ...(state === 'up-to-date' || reasons.length === 0 ? {} : { reason: reasons.join('; ') }),
      ...(state === 'running' && progress !== undefined ? { progress } : {}),
    };
  });
  const edges = plan.order.flatMap((to) => plan.instances.get(to)!.inputs.flatMap((b) => b.sources.map((s) => ({ from: s.id, to, input: b.name }))));
  return { format: 1, id: p.id, file: p.display, nodes, edges };
}
