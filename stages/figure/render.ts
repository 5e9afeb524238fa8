// A figure's data as a Vega-Lite spec (kept as an output: open it in the Vega editor to restyle or
// explore) and as SVG, rendered headless by Vega (no canvas or browser needed).
import type { FigureData } from './data.js';
import { escapeXml, unescapeXml } from '../../src/util/xml.js';

/** What a line chart draws; shared by `figure` (the paper's plots) and `chart` (any outputs). */
export interface LineChart {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  /** One per (series, x): y, how many runs it averages, and a band around it where there are several. */
  readonly points: readonly { readonly series: string; readonly x: number; readonly y: number | null; readonly runs: number; readonly lo?: number; readonly hi?: number }[];
  readonly mark?: 'line' | 'point';
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** A field that splits a series into lines of their own (figure: `source`, ours or the paper's). */
  readonly detail?: string;
  /** More encodings of the lines (figure: the paper's lines dashed). */
  readonly lineEncoding?: Readonly<Record<string, unknown>>;
}

/** The chart as a Vega-Lite spec: a line (or points) per series, over each averaged line its band as a shaded area. */
export function lineChartSpec(c: LineChart): Record<string, unknown> {
  const hasBand = c.points.some((p) => p.lo !== undefined);
  const scale = (log: boolean | undefined) => (log ? { scale: { type: 'log' } } : {});
  const x = { field: 'x', type: 'quantitative', title: c.xTitle, ...scale(c.logX) };
  // Under a band, the legend both layers share would take the band's faint fill; it names the lines.
  const color = { field: 'series', type: 'nominal', title: null, ...(hasBand ? { legend: { symbolOpacity: 1 } } : {}) };
  const detail = c.detail !== undefined ? { detail: { field: c.detail } } : {};
  const line = {
    mark: c.mark === 'point' ? { type: 'point', filled: true, clip: true } : { type: 'line', point: { size: 24 }, clip: true },
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative', title: c.yTitle, ...scale(c.logY) },
      color,
      ...c.lineEncoding,
      ...detail,
      tooltip: [
        { field: 'series' },
        ...(c.detail !== undefined ? [{ field: c.detail }] : []),
        { field: 'x', title: c.xTitle },
        { field: 'y', title: c.yTitle, format: '.4g' },
        { field: 'runs', title: 'runs averaged' },
        ...(hasBand ? [{ field: 'lo', title: 'band from', format: '.4g' }, { field: 'hi', title: 'band to', format: '.4g' }] : []),
      ],
    },
  };
  const band = {
    transform: [{ filter: 'isValid(datum.lo)' }],
    mark: { type: 'area', opacity: 0.2, clip: true },
    encoding: { x, y: { field: 'lo', type: 'quantitative', title: c.yTitle, ...scale(c.logY) }, y2: { field: 'hi' }, color, ...detail },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: c.title,
    width: 420,
    height: 260,
    data: { values: c.points.filter((p) => p.y !== null) },
    ...(hasBand ? { layer: [band, line] } : line),
    // Series named by several axes (`kind=none, init=zero`) are longer than Vega's default label limit.
    config: { font: 'sans-serif', legend: { orient: 'right', labelLimit: 400 } },
  };
}

/** A figure's spec: its lines, and the paper's values dashed beside them. */
export function vegaLiteSpec(fig: FigureData): Record<string, unknown> {
  const hasPaper = fig.points.some((p) => p.source !== 'this run');
  const dashed = {
    strokeDash: { field: 'source', type: 'nominal', title: null, scale: { domain: ['this run', 'paper (CIFAR-10)'], range: [[1, 0], [5, 3]] }, legend: { symbolType: 'stroke', symbolStrokeWidth: 2, encode: { symbols: { update: { stroke: { value: '#555' } } } } } },
  };
  return lineChartSpec({ title: fig.title, xTitle: fig.xLabel, yTitle: fig.yLabel, points: fig.points, detail: 'source', ...(hasPaper ? { lineEncoding: dashed } : {}) });
}

/**
 * The SVG with what a reader should know about the plot (runs that never converged, points a log
 * scale left out) in a `<desc class="rethink-notes">`, one note a line: not drawn, but kept with the
 * picture, and shown by `report` under the figure.
 */
export function withNotes(svg: string, notes: readonly string[]): string {
  if (notes.length === 0) return svg;
  const open = svg.indexOf('>', svg.indexOf('<svg')) + 1;
  return `${svg.slice(0, open)}<desc class="rethink-notes">${escapeXml(notes.join('\n'))}</desc>${svg.slice(open)}`;
}

/** The notes `withNotes` put in an SVG. */
export function notesOf(svg: string): string[] {
  const m = /<desc class="rethink-notes">([^<]*)<\/desc>/.exec(svg);
  return m ? m[1]!.split('\n').map(unescapeXml) : [];
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
