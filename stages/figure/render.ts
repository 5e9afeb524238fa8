// A figure's data as a Vega-Lite spec (kept as an output: open it in the Vega editor to restyle or
// explore) and as SVG, rendered headless by Vega (no canvas or browser needed).
import type { FigureData } from './data.js';

export function vegaLiteSpec(fig: FigureData): Record<string, unknown> {
  const hasPaper = fig.points.some((p) => p.source !== 'this run');
  const hasBand = fig.points.some((p) => p.lo !== undefined);
  const x = { field: 'x', type: 'quantitative', title: fig.xLabel };
  // Under a band, the legend both layers share would take the band's faint fill; it names the lines.
  const color = { field: 'series', type: 'nominal', title: null, ...(hasBand ? { legend: { symbolOpacity: 1 } } : {}) };
  const line = {
    mark: { type: 'line', point: { size: 24 }, clip: true },
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative', title: fig.yLabel },
      color,
      ...(hasPaper ? { strokeDash: { field: 'source', type: 'nominal', title: null, scale: { domain: ['this run', 'paper (CIFAR-10)'], range: [[1, 0], [5, 3]] }, legend: { symbolType: 'stroke', symbolStrokeWidth: 2, encode: { symbols: { update: { stroke: { value: '#555' } } } } } } } : {}),
      detail: { field: 'source' },
      tooltip: [
        { field: 'series' },
        { field: 'source' },
        { field: 'x', title: fig.xLabel },
        { field: 'y', title: fig.yLabel, format: '.4g' },
        { field: 'runs', title: 'runs averaged' },
        ...(hasBand ? [{ field: 'lo', title: 'band from', format: '.4g' }, { field: 'hi', title: 'band to', format: '.4g' }] : []),
      ],
    },
  };
  // The band under the line: a shaded area between lo and hi for each series' averaged points.
  const band = {
    transform: [{ filter: 'isValid(datum.lo)' }],
    mark: { type: 'area', opacity: 0.2, clip: true },
    encoding: { x, y: { field: 'lo', type: 'quantitative', title: fig.yLabel }, y2: { field: 'hi' }, color, detail: { field: 'source' } },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: fig.title,
    width: 420,
    height: 260,
    data: { values: fig.points.filter((p) => p.y !== null) },
    ...(hasBand ? { layer: [band, line] } : line),
    config: { font: 'sans-serif', legend: { orient: 'right' } },
  };
}

let turn: Promise<unknown> = Promise.resolve();

/**
 * The figure as SVG. Vega numbers clip paths and gradients with process-wide counters, so an SVG
 * would depend on what the process drew before it (a figure stage would not reproduce its own
 * bytes). Renders take turns, each with the counters reset.
 */
export function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const svg = turn.then(() => renderAlone(spec));
  turn = svg.catch(() => undefined);
  return svg;
}

async function renderAlone(spec: Record<string, unknown>): Promise<string> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec as never).spec), { renderer: 'none' });
  try {
    vega.resetSVGDefIds();
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
