// The paper's Figure 1a values (training loss per epoch) as the pipeline's `figure` stage drew them in
// `export report`: the points of its specs whose `source` is not this run's. Only that figure has
// per-epoch values to lay over learning curves.
import type { Report } from '../../src/ui/api';

export interface PaperPoint {
  readonly series: string;
  readonly x: number;
  readonly y: number;
}

/** The first `encoding.x.title` in a (possibly layered) Vega-Lite spec. */
function xTitle(spec: unknown): string | null {
  if (spec === null || typeof spec !== 'object') return null;
  const s = spec as { encoding?: { x?: { title?: unknown } }; layer?: unknown[] };
  if (typeof s.encoding?.x?.title === 'string') return s.encoding.x.title;
  for (const l of s.layer ?? []) {
    const t = xTitle(l);
    if (t !== null) return t;
  }
  return null;
}

export function paperLossPerEpoch(report: Report): PaperPoint[] {
  return report.figures.flatMap((f) => {
    if (xTitle(f.spec) !== 'epoch') return [];
    const values = (f.spec['data'] as { values?: unknown } | undefined)?.values;
    if (!Array.isArray(values)) return [];
    return values.flatMap((v: unknown) => {
      const p = v as { source?: unknown; series?: unknown; x?: unknown; y?: unknown };
      return typeof p.source === 'string' && p.source !== 'this run' && typeof p.series === 'string' && typeof p.x === 'number' && typeof p.y === 'number'
        ? [{ series: p.series, x: p.x, y: p.y }]
        : [];
    });
  });
}
