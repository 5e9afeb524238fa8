// What a figure plots, computed from the metrics of a sweep's training runs (the `train` plugin's
// `metrics` JSON, fanned in): the paper's Figure 1a (learning curves), 1b (time to overfit relative
// to clean labels) and 1c (test error against label corruption). Pure: rendering is in render.ts.
import { UserInputError } from '../../src/util/user-error.js';
import { type Scalar } from '../../src/plugin/types.js';
import { summarize } from '../../src/util/stats.js';
import { paperNotes, paperSeries } from './paper.js';

export const PLOTS = ['learning_curves', 'convergence', 'test_error'] as const;
export type Plot = (typeof PLOTS)[number];
export const CURVE_METRICS = ['loss', 'acc', 'test_loss', 'test_acc'] as const;
export type CurveMetric = (typeof CURVE_METRICS)[number];
export const BANDS = ['sd', 'ci95', 'range', 'none'] as const;
/** What the shaded band around a line of several seeds shows (`figure` and `chart`). */
export type Band = (typeof BANDS)[number];
/**
 * A figure's bands: those, or (best, learning curves of an accuracy) the area from the line up to
 * its cumulative best, the paper's Figure 2 shading: what early stopping at the best epoch would gain.
 */
export const FIGURE_BANDS = [...BANDS, 'best'] as const;
export type FigureBand = (typeof FIGURE_BANDS)[number];

export interface FigureParams {
  readonly plot: Plot;
  readonly title: string | null;
  /** The matrix axis whose values name the lines; null: the model's name. */
  readonly series: string | null;
  /** convergence, test_error: the matrix axis on the x axis (e.g. the corruption level p). */
  readonly x: string | null;
  /** learning_curves: what each epoch's point shows. */
  readonly metric: CurveMetric;
  /** learning_curves: epochs, or thousands of training steps as the paper's Figure 1a. */
  readonly x_unit: 'epoch' | 'thousand_steps';
  /** convergence: the online training accuracy that counts as "overfit". */
  readonly threshold: number;
  /** Draw the paper's CIFAR-10 values (dashed) beside the runs', for the models and kinds it has. */
  readonly paper: boolean;
  /** Legend names for series values, e.g. { none: true labels }; unnamed values show as they are. */
  readonly labels: Readonly<Record<string, string>>;
  /** Around a value averaged over seeds: ± the sd, ± the 95% interval, the min–max range, or nothing; or its cumulative best. */
  readonly band: FigureBand;
}

/** The part of a training run's metrics a figure reads. */
export interface RunMetrics {
  readonly model?: string;
  readonly history?: readonly { readonly epoch: number; readonly steps: number; readonly loss: number; readonly acc: number; readonly testLoss?: number; readonly testAcc?: number }[];
  readonly final?: { readonly test?: { readonly acc?: number } };
}

export interface RunInput {
  readonly id: string;
  readonly matrix: Readonly<Record<string, Scalar>>;
  readonly metrics: RunMetrics;
}

/** An averaged point (y null where a run never got there, e.g. never reached the threshold), and whose. */
export interface Point extends Averaged {
  readonly source: 'this run' | 'paper (CIFAR-10)';
}

export interface FigureData {
  readonly title: string;
  readonly plot: Plot;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly Point[];
  /** What a reader should know: runs that never converged, missing fields. */
  readonly notes: readonly string[];
}

export class FigureInputError extends UserInputError {}

const CURVE_FIELD: Record<CurveMetric, 'loss' | 'acc' | 'testLoss' | 'testAcc'> = { loss: 'loss', acc: 'acc', test_loss: 'testLoss', test_acc: 'testAcc' };
const CURVE_LABEL: Record<CurveMetric, string> = { loss: 'training loss (epoch average)', acc: 'training accuracy (online)', test_loss: 'test loss', test_acc: 'test accuracy' };

export function figureData(runs: readonly RunInput[], p: FigureParams): FigureData {
  if (runs.length === 0) throw new FigureInputError('figure: no runs to plot (its `runs` input matched no instance)');
  if (p.band === 'best' && (p.plot !== 'learning_curves' || (p.metric !== 'acc' && p.metric !== 'test_acc'))) {
    throw new FigureInputError(`figure: band best (the cumulative best, Figure 2) needs plot learning_curves with metric acc or test_acc, not ${p.plot}${p.plot === 'learning_curves' ? ` of ${p.metric}` : ''}`);
  }
  const notes: string[] = [];
  const seriesOf = (r: RunInput): string => {
    if (p.series === null) return r.metrics.model ?? r.id;
    const v = r.matrix[p.series];
    if (v === undefined) throw new FigureInputError(`figure: ${r.id} has no matrix axis "${p.series}" (series); its axes: ${Object.keys(r.matrix).join(', ') || 'none'}`);
    return String(v);
  };
  const xOf = (r: RunInput): number => {
    if (p.x === null) throw new FigureInputError(`figure: plot ${p.plot} needs \`x\`, the matrix axis on the x axis (e.g. p)`);
    const v = r.matrix[p.x];
    if (typeof v !== 'number') throw new FigureInputError(`figure: ${r.id} has ${v === undefined ? 'no' : 'a non-numeric'} matrix axis "${p.x}" (x); its axes: ${Object.keys(r.matrix).join(', ') || 'none'}`);
    return v;
  };
  const history = (r: RunInput) => {
    if (!r.metrics.history?.length) throw new FigureInputError(`figure: ${r.id}'s metrics have no per-epoch history (is its input a train stage's metrics?)`);
    return r.metrics.history;
  };

  // One value per run and x, averaged over seeds below; convergence averages before its ratios.
  const raw: { series: string; x: number; y: number | null }[] = [];
  let averaged: Averaged[] | undefined;
  let xLabel: string;
  let yLabel: string;
  if (p.plot === 'learning_curves') {
    const field = CURVE_FIELD[p.metric];
    for (const r of runs) {
      let steps = 0;
      for (const e of history(r)) {
        steps += e.steps;
        const y = e[field];
        raw.push({ series: seriesOf(r), x: p.x_unit === 'epoch' ? e.epoch : steps / 1000, y: y ?? null });
      }
    }
    xLabel = p.x_unit === 'epoch' ? 'epoch' : 'thousand steps';
    yLabel = CURVE_LABEL[p.metric];
  } else if (p.plot === 'convergence') {
    // Epochs to the threshold, averaged over seeds, then divided by the series' value at its smallest x.
    const epochs = runs.map((r) => {
      const hit = history(r).find((e) => e.acc >= p.threshold);
      if (!hit) notes.push(`${r.id} never reached training accuracy ${p.threshold} in ${history(r).length} epochs`);
      return { series: seriesOf(r), x: xOf(r), y: hit ? hit.epoch : null };
    });
    const perX = average(epochs, p.band === 'best' ? 'none' : p.band);
    const ratios: Averaged[] = [];
    for (const s of new Set(perX.map((q) => q.series))) {
      const line = perX.filter((q) => q.series === s).sort((a, b) => a.x - b.x);
      const base = line[0]!;
      if (base.y === null) notes.push(`${s}: no baseline (${p.x} = ${base.x} never converged), so no ratios`);
      // The band scales with the line: each x's spread of epochs, over the baseline's mean.
      ratios.push(...line.map((q) => (base.y === null || q.y === null ? { series: q.series, x: q.x, y: null, runs: q.runs } : scale(q, 1 / base.y))));
    }
    averaged = ratios;
    xLabel = p.x === 'p' ? 'label corruption' : (p.x ?? '');
    yLabel = 'time to overfit (relative to the first x)';
    notes.push(`time to overfit: the first epoch whose online training accuracy is ≥ ${p.threshold}`);
  } else {
    for (const r of runs) {
      const acc = r.metrics.final?.test?.acc;
      if (acc === undefined) throw new FigureInputError(`figure: ${r.id}'s metrics have no final.test.acc`);
      raw.push({ series: seriesOf(r), x: xOf(r), y: 1 - acc });
    }
    xLabel = p.x === 'p' ? 'label corruption' : (p.x ?? '');
    yLabel = 'test error';
  }
  averaged ??= p.band === 'best' ? cumulativeBest(average(raw, 'none')) : average(raw, p.band);
  if (p.plot === 'learning_curves') notes.push(...thinningNotes(averaged, xLabel));
  const points: Point[] = averaged.map((q) => ({ ...q, source: 'this run' }));
  if (p.paper && p.plot === 'learning_curves' && (p.metric === 'acc' || p.metric === 'test_loss')) {
    notes.push("the paper plots training loss (Figure 1a) and test accuracy (Figure 2b) over training: no paper lines for this metric");
  } else if (p.paper) {
    const names = [...new Set(points.map((q) => q.series))];
    const refs = paperSeries(p.plot, names, p.x_unit, p.metric);
    for (const ref of refs) points.push({ ...ref, source: 'paper (CIFAR-10)', runs: 1 });
    if (p.metric === 'test_acc' && refs.length > 0) notes.push(...paperNotes(names));
  }
  const named = Object.keys(p.labels).length > 0 ? points.map((q) => ({ ...q, series: p.labels[q.series] ?? q.series })) : points;
  const title = p.title ?? { learning_curves: 'Learning curves', convergence: 'Convergence slowdown', test_error: 'Generalization error growth' }[p.plot];
  return { title, plot: p.plot, xLabel, yLabel, points: named, notes };
}

export interface Averaged {
  readonly series: string;
  readonly x: number;
  readonly y: number | null;
  /** How many runs (seeds) the value averages. */
  readonly runs: number;
  /** The band around y (see FigureParams.band), present where several runs gave a value. */
  readonly lo?: number;
  readonly hi?: number;
}

/**
 * Mean y per (series, x) over seeds, with the band around it where several runs gave a value; a null
 * in a group makes the mean null (not silently dropped).
 */
export function average(points: readonly { series: string; x: number; y: number | null }[], band: Band): Averaged[] {
  const groups = new Map<string, { series: string; x: number; ys: (number | null)[] }>();
  for (const q of points) {
    const k = JSON.stringify([q.series, q.x]);
    const g = groups.get(k) ?? { series: q.series, x: q.x, ys: [] };
    g.ys.push(q.y);
    groups.set(k, g);
  }
  return [...groups.values()].map((g) => {
    const runs = g.ys.length;
    if (g.ys.some((y) => y === null)) return { series: g.series, x: g.x, y: null, runs };
    const s = summarize(g.ys as number[]);
    const mean = s.mean!;
    const spread = band === 'sd' ? s.sd : band === 'ci95' ? s.ci95 : null;
    const range = band === 'range' && runs > 1 ? { lo: s.min!, hi: s.max! } : spread !== null ? { lo: mean - spread, hi: mean + spread } : {};
    return { series: g.series, x: g.x, y: mean, runs, ...range };
  });
}

/**
 * Runs that stop early (at their target accuracy) leave the later epochs of a line to the others: say
 * from where on a line's mean is over fewer runs than its start.
 */
function thinningNotes(points: readonly Averaged[], xLabel: string): string[] {
  const notes: string[] = [];
  for (const s of new Set(points.map((q) => q.series))) {
    const line = points.filter((q) => q.series === s).sort((a, b) => a.x - b.x);
    const most = Math.max(...line.map((q) => q.runs));
    const from = line.find((q) => q.runs < most);
    if (from !== undefined) notes.push(`${s}: from ${xLabel} ${from.x} on, the line averages fewer than its ${most} runs (the others had stopped)`);
  }
  return notes;
}

/**
 * Each line's points with the band from y up to the best y so far (by x): the paper's Figure 2
 * shading. A point without a value (a seed missing there) neither shades nor raises the best.
 */
export function cumulativeBest(points: readonly Averaged[]): Averaged[] {
  const out: Averaged[] = [];
  for (const s of new Set(points.map((q) => q.series))) {
    let best = -Infinity;
    for (const q of points.filter((q) => q.series === s).sort((a, b) => a.x - b.x)) {
      if (q.y === null) {
        out.push(q);
        continue;
      }
      best = Math.max(best, q.y);
      out.push({ ...q, lo: q.y, hi: best });
    }
  }
  return out;
}

/** A point with its value and band multiplied by `f`. */
function scale(q: Averaged, f: number): Averaged {
  return { ...q, y: q.y === null ? null : q.y * f, ...(q.lo !== undefined && q.hi !== undefined ? { lo: q.lo * f, hi: q.hi * f } : {}) };
}
