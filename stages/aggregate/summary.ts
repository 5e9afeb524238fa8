// A sweep's results as a table: one row per instance (its stage, its matrix coordinates, the chosen
// metric values), or, summarized over some axes (seeds, usually), one row per combination of the
// others with statistics of each metric across the runs it gathers. Shared by the `aggregate` stage
// and `rethink results`.
import { UserInputError } from '../../src/util/user-error.js';
import { type Scalar } from '../../src/plugin/types.js';
import { summarize, STATS, type Stat } from '../../src/util/stats.js';

export interface Table {
  readonly title: string | null;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (Scalar | null)[])[];
  /** How many leading columns say which run a row is (stage, matrix axes): shown as written, not rounded. */
  readonly coordinates?: number;
  /** In a summary table: which statistic of which metric each column holds (null: not a statistic). */
  readonly statColumns?: readonly (StatColumn | null)[];
  /** Column → column shown in parentheses after it where a reader sees the table (Table 2's "final (best)"). */
  readonly parenthesized?: Readonly<Record<string, string>>;
}

export interface StatColumn {
  readonly stat: Stat;
  readonly metric: string;
}

/** One instance of a sweep: where it came from and the values of the chosen metrics, in order. */
export interface SweepRow {
  readonly stage: string;
  readonly matrix: Readonly<Record<string, Scalar>>;
  readonly values: readonly (Scalar | null)[];
}

/** A summary asked for axes no row has, or for no statistics: the user's to fix. */
export class SummaryError extends UserInputError {
  override readonly name = 'SummaryError';
}

/** Every matrix axis of the rows, in the order they first appear. */
function axesOf(rows: readonly SweepRow[]): string[] {
  const axes: string[] = [];
  for (const r of rows) for (const a of Object.keys(r.matrix)) if (!axes.includes(a)) axes.push(a);
  return axes;
}

/** What a caller that knows the sweep can say of the table; each defaults to what the rows show. */
export interface TableOptions {
  readonly title?: string | null;
  /** The matrix axes, in order. */
  readonly axes?: readonly string[];
  /** The stages of the instances (a `stage` column when they are several). */
  readonly stages?: readonly string[];
}

/**
 * A row per instance: a `stage` column when several stages feed the table, the matrix axes, the
 * metrics. `axes` and `stages` default to the rows'; a caller that knows the sweep's passes them, so
 * that a table with no rows yet still has its columns.
 */
export function sweepTable(rows: readonly SweepRow[], metrics: readonly string[], options: TableOptions = {}): Table {
  const { title = null, axes = axesOf(rows) } = options;
  const withStage = new Set(options.stages ?? rows.map((r) => r.stage)).size > 1;
  return {
    title,
    coordinates: (withStage ? 1 : 0) + axes.length,
    columns: [...(withStage ? ['stage'] : []), ...axes, ...metrics],
    rows: rows.map((r) => [...(withStage ? [r.stage] : []), ...axes.map((a) => r.matrix[a] ?? null), ...r.values]),
  };
}

/** A summary table, with which input rows each of its rows gathers. */
export interface SummaryTable extends Table {
  /** For each row, the indexes of the input rows it summarizes. */
  readonly members: readonly (readonly number[])[];
}

/** The column that holds statistic `stat` of `metric` in a summary table. */
export const statColumn = (stat: Stat, metric: string): string => `${stat}(${metric})`;

/**
 * A row per combination of the axes not in `over`, in the order the combinations first appear, with
 * `runs` (how many instances it gathers), then for each numeric metric one column per statistic, e.g.
 * `mean(final.test.acc)`, `sd(final.test.acc)`. A run without the value (a null) leaves it out of `n`
 * and makes the other statistics null: a mean over the runs that happened to finish would hide the
 * ones that did not. A metric with text values gets one column: the value its runs share, or each
 * value with its count (`target ×2, epochs ×1`).
 */
export function summaryTable(rows: readonly SweepRow[], metrics: readonly string[], over: readonly string[], stats: readonly Stat[], options: TableOptions = {}): SummaryTable {
  const { title = null, axes = axesOf(rows) } = options;
  const unknown = over.filter((a) => !axes.includes(a));
  if (unknown.length > 0) throw new SummaryError(`cannot summarize over ${unknown.map((a) => `"${a}"`).join(', ')}: the runs' matrix axes are ${axes.length > 0 ? axes.join(', ') : 'none'}`);
  if (stats.length === 0) throw new SummaryError(`no statistics to show: choose from ${STATS.join(', ')}`);
  const keep = axes.filter((a) => !over.includes(a));
  const withStage = new Set(options.stages ?? rows.map((r) => r.stage)).size > 1;
  const coordinates = (r: SweepRow): (Scalar | null)[] => [...(withStage ? [r.stage] : []), ...keep.map((a) => r.matrix[a] ?? null)];

  const groups = new Map<string, { coordinates: (Scalar | null)[]; members: SweepRow[]; indexes: number[] }>();
  rows.forEach((r, index) => {
    const c = coordinates(r);
    const k = JSON.stringify(c);
    const g = groups.get(k) ?? { coordinates: c, members: [], indexes: [] };
    g.members.push(r);
    g.indexes.push(index);
    groups.set(k, g);
  });
  const numeric = metrics.map((_, m) => rows.every((r) => r.values[m] === null || r.values[m] === undefined || typeof r.values[m] === 'number'));
  const columns = [...(withStage ? ['stage'] : []), ...keep, 'runs', ...metrics.flatMap((m, i) => (numeric[i] ? stats.map((s) => statColumn(s, m)) : [m]))];
  const statColumns = [...(withStage ? [null] : []), ...keep.map(() => null), null, ...metrics.flatMap((metric, i) => (numeric[i] ? stats.map((stat) => ({ stat, metric })) : [null]))];
  const out = [...groups.values()].map((g) => [
    ...g.coordinates,
    g.members.length,
    ...metrics.flatMap((_, i) => {
      const values = g.members.map((r) => r.values[i] ?? null);
      if (!numeric[i]) return [tally(values)];
      const present = values.filter((v): v is number => v !== null);
      const s = summarize(present);
      const complete = present.length === values.length;
      return stats.map((stat) => (stat === 'n' ? s.n : complete ? s[stat] : null));
    }),
  ]);
  return { title, coordinates: (withStage ? 1 : 0) + keep.length, columns, statColumns, rows: out, members: [...groups.values()].map((g) => g.indexes) };
}

/** The value all share, or each distinct value with its count, most frequent first; – for a missing one. */
function tally(values: readonly (Scalar | null)[]): Scalar | null {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v === null ? '–' : String(v), (counts.get(v === null ? '–' : String(v)) ?? 0) + 1);
  if (counts.size === 1) return values[0]!;
  return [...counts].sort((a, b) => b[1] - a[1]).map(([v, c]) => `${v} ×${c}`).join(', ');
}
