// A tensor's value histogram as a small SVG bar chart (a few dozen bars: no need for vega here).
import type { TensorPreview } from '../../../src/ui/api';
import { num } from '../format';

type Hist = TensorPreview['tensors'][number]['histogram'];

export function Histogram({ histogram, label }: { histogram: Hist; label: string }) {
  const W = 320;
  const H = 90;
  const n = histogram.counts.length;
  const max = Math.max(1, ...histogram.counts);
  const bw = n === 0 ? 0 : W / n;
  return (
    <figure class="histogram">
      <svg width={W} height={H + 16} viewBox={`0 0 ${W} ${H + 16}`} role="img" aria-label={label}>
        {histogram.counts.map((c, i) => {
          const h = (c / max) * H;
          return (
            <rect key={i} x={i * bw + 0.5} y={H - h} width={Math.max(1, bw - 1)} height={h}>
              <title>{`${num(histogram.edges[i] ?? 0)} … ${num(histogram.edges[i + 1] ?? 0)}: ${c}`}</title>
            </rect>
          );
        })}
        <text x="0" y={H + 13}>
          {num(histogram.edges[0] ?? 0)}
        </text>
        <text x={W} y={H + 13} text-anchor="end">
          {num(histogram.edges[n] ?? 0)}
        </text>
      </svg>
    </figure>
  );
}
