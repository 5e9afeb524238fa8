// A training diverged when its loss (or any metric) stopped being a finite number. It is said once,
// as a warning, and recorded explicitly in the metrics (`diverged: true` and where), with each
// non-finite value written as null: JSON has no NaN, and writeJson refuses to drop one silently.
import type { StepProgress } from '../../src/train/types.js';
import { jsonPath, nonFiniteNumbers } from '../../src/util/non-finite.js';

/**
 * Where it was first seen: the epoch, step (1-based within its epoch) and learning rate when a step's
 * loss showed it, else nulls and the JSON path of the first non-finite value in the metrics.
 */
export interface Divergence {
  readonly epoch: number | null;
  readonly step: number | null;
  readonly lr: number | null;
  readonly metric: string;
}

/** From a step's progress: its loss is not finite. */
export function stepDivergence(s: StepProgress): Divergence | undefined {
  return Number.isFinite(s.loss) ? undefined : { epoch: s.epoch, step: s.step, lr: s.lr, metric: 'loss' };
}

export function divergenceWarning(d: Divergence): string {
  const where = d.epoch === null ? '' : ` at epoch ${d.epoch}${d.step === null ? '' : ` step ${d.step}`}`;
  return `warning: training diverged${where} (${d.metric} is not a finite number${d.lr === null ? '' : `; lr ${d.lr}`}): the metrics record diverged: true and null for each NaN or infinite value; try a lower lr`;
}

/**
 * The metrics as they will be written: unchanged when every number is finite; otherwise with
 * `diverged: true`, `diverged_at`, and null where a value was NaN or infinite.
 */
export function divergedMetrics(
  metrics: Readonly<Record<string, unknown>>,
  seen: Divergence | undefined,
): { readonly metrics: Readonly<Record<string, unknown>>; readonly divergence?: Divergence } {
  const bad = nonFiniteNumbers(metrics)[0];
  const divergence = seen ?? (bad === undefined ? undefined : { epoch: null, step: null, lr: null, metric: jsonPath(bad.path) });
  if (divergence === undefined) return { metrics };
  return { metrics: { ...(nullIfNotFinite(metrics) as Record<string, unknown>), diverged: true, diverged_at: { ...divergence } }, divergence };
}

function nullIfNotFinite(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (Array.isArray(value)) return value.map(nullIfNotFinite);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, nullIfNotFinite(v)]));
  return value;
}
