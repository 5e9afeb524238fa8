// The edges of a plan. A run walks them through each instance's inputs (`upstreamIds`); the
// graphology graph (`Plan.graph`, for `dag`, `validate` and the library API) is built on first use,
// because importing graphology and adding a node per instance cost a no-op rerun of a 512-stage sweep
// about a tenth of its time. `require` (graphology's CommonJS build) keeps that first use
// synchronous, as yaml-lib.ts does for the yaml package.
import { createRequire } from 'node:module';
import type Graph from 'graphology';
import type { DirectedGraph } from 'graphology';
import type { StageId } from '../util/brand.js';
import type { StageInstance } from './plan.js';

/** The instances an instance reads, each once, in the order of its inputs and their sources. */
export function upstreamIds(inst: Pick<StageInstance, 'inputs'>): StageId[] {
  const ids = new Set<StageId>();
  for (const b of inst.inputs) for (const s of b.sources) ids.add(s.id);
  return [...ids];
}

/** A node per instance (in `order`, with its stage as the `stage` attribute) and an edge per upstream instance it reads. */
export function planGraph(order: readonly StageId[], instances: ReadonlyMap<StageId, Pick<StageInstance, 'stage' | 'inputs'>>): DirectedGraph {
  const { DirectedGraph } = createRequire(import.meta.url)('graphology') as typeof Graph;
  const graph = new DirectedGraph();
  for (const id of order) {
    const inst = instances.get(id)!;
    graph.addNode(id, { stage: inst.stage });
    for (const up of upstreamIds(inst)) graph.addEdge(up, id);
  }
  return graph;
}
