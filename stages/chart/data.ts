// What a chart plots, from any stage's JSON outputs fanned in (a `kernel` sweep's test error against n,
// a `linear` run's distance to the minimum-norm solution per epoch, …). Each run gives points (x, y):
// x is a matrix axis or a field of its output, y a field; `list[].field` walks a list, so one run can
// give a whole curve. Points of runs that differ only in the `over` axes (seeds) average into one,
// with a band. Pure: rendering is in render.ts.
import { UserInputError } from '../../src/util/user-error.js';
import { type JsonValue, type Scalar } from '../../src/plugin/types.js';
import { pick, valueAt } from '../aggregate/plugin.js';
import { average, type Averaged, type Band } from '../figure/data.js';

export interface ChartParams {
  readonly x: string;
  readonly y: string;
  /** The matrix axis that names the lines; null: every axis but x's and the `over` ones. */
  readonly series: string | null;
  readonly over: readonly string[];
  readonly band: Band;
  readonly log_x: boolean;
  readonly log_y: boolean;
  readonly mark: 'line' | 'point';
  readonly title: string | null;
  readonly x_title: string | null;
  readonly y_title: string | null;
}

export interface ChartRun {
  readonly id: string;
  readonly matrix: Readonly<Record<string, Scalar>>;
  readonly doc: JsonValue;
}

export interface ChartData {
  readonly title: string;
  readonly xTitle: string;
  readonly yTitle: string;
  readonly points: readonly Averaged[];
  readonly notes: readonly string[];
}

export class ChartInputError extends UserInputError {}

/** `history[].epoch` → { list: 'history', field: 'epoch' }; a plain path → { field }. */
function parsePath(path: string): { readonly list?: string; readonly field: string } {
  const i = path.indexOf('[].');
  return i < 0 ? { field: path } : { list: path.slice(0, i), field: path.slice(i + 3) };
}

export function chartData(runs: readonly ChartRun[], p: ChartParams): ChartData {
  if (runs.length === 0) throw new ChartInputError('chart: no runs to plot (its `runs` input matched no instance)');
  const [xp, yp] = [parsePath(p.x), parsePath(p.y)];
  if (xp.list !== undefined && yp.list !== undefined && xp.list !== yp.list) throw new ChartInputError(`chart: x and y walk different lists (${xp.list}[] and ${yp.list}[]); they must walk the same one`);
  const list = xp.list ?? yp.list;
  const axes = [...new Set(runs.flatMap((r) => Object.keys(r.matrix)))];
  const xIsAxis = xp.list === undefined && axes.includes(p.x);
  const unknownOver = p.over.filter((a) => !axes.includes(a));
  if (unknownOver.length > 0) throw new ChartInputError(`chart: over ${unknownOver.join(', ')}: not a matrix axis of the runs (${axes.join(', ') || 'none'})`);
  if (p.series !== null && !axes.includes(p.series)) throw new ChartInputError(`chart: series "${p.series}" is not a matrix axis of the runs (${axes.join(', ') || 'none'})`);
  const seriesAxes = p.series !== null ? [p.series] : axes.filter((a) => !(xIsAxis && a === p.x) && !p.over.includes(a));
  const seriesOf = (r: ChartRun): string => (seriesAxes.length === 0 ? 'all runs' : seriesAxes.map((a) => (p.series !== null ? String(r.matrix[a] ?? '–') : `${a}=${r.matrix[a] ?? '–'}`)).join(', '));

  const notes: string[] = [];
  const raw: { series: string; x: number; y: number | null }[] = [];
  const number = (v: Scalar | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  for (const r of runs) {
    const series = seriesOf(r);
    // A list's field is read in each item of the list; a plain field in the run's output.
    const numberAt = (path: { list?: string; field: string }, item: JsonValue | undefined) => number(pick(path.list !== undefined ? (item ?? null) : r.doc, path.field));
    const xOf = (item?: JsonValue) => (xIsAxis ? number(r.matrix[p.x]) : numberAt(xp, item));
    if (list === undefined) {
      const x = xOf();
      if (x === null) throw new ChartInputError(`chart: ${r.id} has no number at x "${p.x}" (a matrix axis or a field of its output)`);
      raw.push({ series, x, y: numberAt(yp, undefined) });
      continue;
    }
    const items = valueAt(r.doc, list);
    if (!Array.isArray(items)) throw new ChartInputError(`chart: ${r.id}'s output has no list at "${list}"`);
    for (const item of items as readonly JsonValue[]) {
      const x = xOf(item);
      if (x !== null) raw.push({ series, x, y: numberAt(yp, item) });
    }
  }
  let points = average(raw, p.band);
  const missing = points.filter((q) => q.y === null).length;
  if (missing > 0) notes.push(`${missing} point${missing === 1 ? '' : 's'} without a number at y "${p.y}" (in some run) left out`);
  if (p.log_y || p.log_x) {
    const before = points.length;
    points = points.filter((q) => (!p.log_y || q.y === null || q.y > 0) && (!p.log_x || q.x > 0));
    const dropped = before - points.length;
    if (dropped > 0) notes.push(`${dropped} point${dropped === 1 ? '' : 's'} ≤ 0 left out of the log scale`);
    // A band reaching to or below 0 on a log scale is cut at the smallest value drawn.
    const floor = Math.min(...points.flatMap((q) => (q.y === null ? [] : [q.y])));
    if (p.log_y) points = points.map((q) => (q.lo !== undefined && q.lo <= 0 ? { ...q, lo: floor } : q));
  }
  return {
    title: p.title ?? `${p.y} against ${p.x}`,
    xTitle: p.x_title ?? p.x,
    yTitle: p.y_title ?? p.y,
    points: points.filter((q) => q.y !== null),
    notes,
  };
}
