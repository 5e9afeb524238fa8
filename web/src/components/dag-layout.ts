// A layered layout for a pipeline's instance DAG: each instance in the column of its longest path from
// a source (so stage order reads left to right), stacked by stage then id. Enough for rethink's DAGs
// (a handful of stages, sweeps fanning out and in); a general graph-layout library would weigh more
// than the whole app.
import type { DagNode, PipelineDag } from '../../../src/ui/api';

export const NODE_W = 230;
export const NODE_H = 46;
const COL_GAP = 70;
const ROW_GAP = 14;
const PAD = 12;

export interface PlacedNode {
  readonly node: DagNode;
  readonly x: number;
  readonly y: number;
}

export interface DagLayout {
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly PlacedNode[];
  /** Cubic Bézier paths, right side of the upstream box to the left side of the reader. */
  readonly edges: readonly { readonly from: string; readonly to: string; readonly d: string }[];
}

export function layout(dag: Pick<PipelineDag, 'nodes' | 'edges'>): DagLayout {
  const preds = new Map<string, string[]>();
  for (const e of dag.edges) preds.set(e.to, [...(preds.get(e.to) ?? []), e.from]);
  const layer = new Map<string, number>();
  const visiting = new Set<string>();
  const layerOf = (id: string): number => {
    const known = layer.get(id);
    if (known !== undefined) return known;
    // The plan is acyclic; the guard only keeps a malformed document from recursing forever.
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const l = Math.max(-1, ...(preds.get(id) ?? []).map(layerOf)) + 1;
    layer.set(id, l);
    return l;
  };
  const stageOrder = new Map<string, number>();
  for (const n of dag.nodes) if (!stageOrder.has(n.stage)) stageOrder.set(n.stage, stageOrder.size);
  const columns: DagNode[][] = [];
  for (const n of dag.nodes) (columns[layerOf(n.id)] ??= []).push(n);
  const placed: PlacedNode[] = [];
  const at = new Map<string, PlacedNode>();
  columns.forEach((col, c) => {
    col.sort((a, b) => stageOrder.get(a.stage)! - stageOrder.get(b.stage)! || a.id.localeCompare(b.id, undefined, { numeric: true }));
    col.forEach((node, r) => {
      const p = { node, x: PAD + c * (NODE_W + COL_GAP), y: PAD + r * (NODE_H + ROW_GAP) };
      placed.push(p);
      at.set(node.id, p);
    });
  });
  const edges = dag.edges.flatMap((e) => {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (a === undefined || b === undefined) return [];
    const x1 = a.x + NODE_W;
    const y1 = a.y + NODE_H / 2;
    const x2 = b.x;
    const y2 = b.y + NODE_H / 2;
    const mid = (x1 + x2) / 2;
    return [{ from: e.from, to: e.to, d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}` }];
  });
  const rows = Math.max(0, ...columns.map((c) => c?.length ?? 0));
  return {
    width: PAD * 2 + Math.max(1, columns.length) * (NODE_W + COL_GAP) - COL_GAP,
    height: PAD * 2 + rows * (NODE_H + ROW_GAP) - ROW_GAP,
    nodes: placed,
    edges,
  };
}
