// `aggregate`: fans in JSON metrics from a sweep into one table: a row per upstream instance, its
// matrix coordinates as columns, then the chosen metric fields; or, with `over: [seed]`, a row per
// combination of the other axes with the mean, spread and count of each metric over the seeds.
// Writes JSON, CSV and Markdown. `parenthesize` shows one metric after another in parentheses where
// a reader sees the table (Markdown, the report), as the paper's Table 2 prints "final (best)"; the
// JSON and CSV keep a column each.
import { definePlugin, type Artifact, type JsonValue, type Scalar } from '../../src/plugin/types.js';
import { STATS, STAT_MEANING, type Stat } from '../../src/util/stats.js';
import { SummaryError, summaryTable, sweepTable, type Table } from './summary.js';
import { toCsv } from '../../src/util/csv.js';

export type { Table } from './summary.js';

export interface AggregateParams {
  /** Dotted paths into each metrics document, e.g. `final.train_acc`; each becomes a column. */
  readonly metrics: readonly string[];
  readonly title: string | null;
  /** Digits after the point for numbers in the Markdown table. */
  readonly digits: number;
  /** Matrix axes to summarize over (e.g. seed): their runs become one row of statistics. */
  readonly over: readonly string[];
  /** With `over`: the statistics of each numeric metric. */
  readonly stats: readonly Stat[];
  /** Metric → metric shown in parentheses after it (and not in a column of its own) where read. */
  readonly parenthesize: Readonly<Record<string, string>>;
}

export const aggregatePlugin = definePlugin<AggregateParams>({
  name: 'aggregate',
  version: '2',
  description: 'One table from the metrics of many stage instances (fan-in): matrix coordinates + chosen metrics, or statistics over seeds (over: [seed])',
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['metrics'],
    properties: {
      metrics: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, description: 'dotted paths into each metrics JSON' },
      title: { type: ['string', 'null'], default: null },
      digits: { type: 'integer', minimum: 0, maximum: 10, default: 4 },
      over: { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, default: [], description: 'matrix axes to summarize over, e.g. [seed]: one row per combination of the others' },
      stats: {
        type: 'array',
        items: { enum: STATS },
        minItems: 1,
        uniqueItems: true,
        default: ['mean', 'sd'],
        description: `with over: statistics per metric; ${STATS.map((s) => `${s}: ${STAT_MEANING[s]}`).join('; ')}`,
      },
      parenthesize: {
        type: 'object',
        additionalProperties: { type: 'string', minLength: 1 },
        default: {},
        description: 'metric → metric shown in parentheses after it where the table is read, e.g. { final.test.acc: final.best_test_acc } prints "0.8605 (0.8671)" (Table 2\'s final (best)); both in metrics; not with over',
      },
    },
  },
  inputs: { runs: { kind: 'json', many: true, description: 'metrics JSON of each instance, e.g. train[*].metrics' } },
  outputs: {
    table: { kind: 'json', description: '{title, columns, rows}' },
    csv: { kind: 'file', extension: '.csv' },
    markdown: { kind: 'file', extension: '.md' },
  },
  seeded: false,
  async run(ctx) {
    const runs = (ctx.inputs.runs ?? []) as readonly Artifact[];
    const table = await buildTable(runs, ctx.params);
    await ctx.writeJson('table', table);
    await ctx.writeFile('csv', toCsv(table));
    await ctx.writeFile('markdown', toMarkdown(table, ctx.params.digits));
  },
});

export async function buildTable(runs: readonly Artifact[], params: AggregateParams): Promise<Table> {
  const pairs = Object.entries(params.parenthesize ?? {});
  for (const [outer, inner] of pairs) {
    const missing = [outer, inner].filter((m) => !params.metrics.includes(m));
    if (missing.length > 0) throw new SummaryError(`aggregate: with.parenthesize names ${missing.map((m) => `"${m}"`).join(' and ')}, not in with.metrics (${params.metrics.join(', ')})`);
    if (outer === inner || pairs.some(([o]) => o === inner)) throw new SummaryError(`aggregate: with.parenthesize: "${inner}" cannot be both inside parentheses and around them`);
  }
  if (pairs.length > 0 && params.over.length > 0) throw new SummaryError('aggregate: with.parenthesize applies to a row per run, not to statistics over seeds (with.over): drop one of them');
  const rows = await Promise.all(
    runs.map(async (r) => {
      const doc = await r.readJson<JsonValue>();
      return { stage: r.from.stage, matrix: r.from.matrix, values: params.metrics.map((m) => pick(doc, m)) };
    }),
  );
  if (params.over.length > 0) return summaryTable(rows, params.metrics, params.over, params.stats, { title: params.title });
  const table = sweepTable(rows, params.metrics, { title: params.title });
  return pairs.length > 0 ? { ...table, parenthesized: Object.fromEntries(pairs) } : table;
}

/** The value at a dotted path (`final.test.acc`, `history.0.loss`: list items by index), if any. */
export function valueAt(doc: JsonValue, path: string): JsonValue | undefined {
  let cur: JsonValue | undefined = doc;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? (cur as JsonValue[])[Number(seg)] : (cur as Record<string, JsonValue>)[seg];
  }
  return cur;
}

/** The scalar at a dotted path, or null (none there, or a list or object). */
export function pick(doc: JsonValue, path: string): Scalar | null {
  const v = valueAt(doc, path);
  return v === undefined || (v !== null && typeof v === 'object') ? null : v;
}

function toMarkdown(t: Table, digits: number): string {
  return `${t.title ? `# ${t.title}\n\n` : ''}${markdownTable(t, digits)}\n`;
}

/**
 * A table cell as shown: fractions to `digits` places, integers as they are, a dash for none. A value
 * too small for `digits` places shows in exponent form rather than as a misleading 0.
 */
export function formatCell(v: Scalar | null, digits: number): string {
  if (v === null) return '–';
  if (typeof v !== 'number' || Number.isInteger(v)) return String(v);
  return Math.abs(v) < 0.5 * 10 ** -digits ? v.toExponential(1) : v.toFixed(digits);
}

/** A row's cells as shown: its coordinates as written (p = 0.2, not 0.2000), values by `formatCell`. */
export function formatRow(t: Table, row: readonly (Scalar | null)[], digits: number): string[] {
  return row.map((v, i) => (i < (t.coordinates ?? 0) && v !== null ? String(v) : formatCell(v, digits)));
}

/**
 * The table as a reader sees it: cells formatted, and a summary's statistics of one metric in one
 * column, `0.8063 ± 0.0075 [0.8020, 0.8150] 95% ±0.0186 n=3`, headed by the metric and that pattern
 * (`final.test.acc (mean ± sd [min, max] 95% ±ci n)`). The JSON and CSV keep a column per statistic.
 */
export function displayTable(t: Table, digits: number): { columns: string[]; rows: string[][] } {
  const stats = t.statColumns;
  if (stats === undefined) return parenthesized(t, { columns: [...t.columns], rows: t.rows.map((r) => formatRow(t, r, digits)) });
  // Plain columns stay; each metric's statistics merge where its first one stands.
  const groups: ({ kind: 'plain'; at: number } | { kind: 'metric'; metric: string; at: Partial<Record<Stat, number>> })[] = [];
  stats.forEach((s, at) => {
    if (s === null) return void groups.push({ kind: 'plain', at });
    const g = groups.find((x) => x.kind === 'metric' && x.metric === s.metric);
    if (g && g.kind === 'metric') g.at[s.stat] = at;
    else groups.push({ kind: 'metric', metric: s.metric, at: { [s.stat]: at } });
  });
  // One cell: mean ± spread (the sd, else the 95% half-width), then [min, max], the half-width beside
  // an sd, and n. `pattern` says the same in the header.
  // A missing value (a seed without it voids the statistics) shows once, as –, not in every slot.
  const merged = (cell: (stat: Stat) => string | undefined): string => {
    const [mean, sd, ci, min, max, n] = (['mean', 'sd', 'ci95', 'min', 'max', 'n'] as const).map((s) => {
      const v = cell(s);
      return v === '–' && s !== 'n' ? undefined : v;
    });
    const spread = sd ?? (mean !== undefined ? ci : undefined);
    const core = mean !== undefined ? (spread !== undefined ? `${mean} ± ${spread}` : mean) : sd !== undefined ? `sd ${sd}` : ci !== undefined ? `95% ±${ci}` : undefined;
    const range = min !== undefined && max !== undefined ? `[${min}, ${max}]` : min !== undefined ? `min ${min}` : max !== undefined ? `max ${max}` : undefined;
    const parts = [core, range, ci !== undefined && sd !== undefined ? `95% ±${ci}` : undefined].filter((p) => p !== undefined);
    return [...(parts.length > 0 ? parts : ['–']), ...(n !== undefined ? [`n=${n}`] : [])].join(' ');
  };
  const pattern = (has: (stat: Stat) => boolean): string => {
    const spread = has('sd') ? 'sd' : has('mean') && has('ci95') ? '95% CI' : undefined;
    const core = has('mean') ? (spread !== undefined ? `mean ± ${spread}` : 'mean') : has('sd') ? 'sd' : has('ci95') ? '95% CI' : undefined;
    const range = has('min') && has('max') ? '[min, max]' : has('min') ? 'min' : has('max') ? 'max' : undefined;
    return [core, range, has('ci95') && has('sd') ? '95% CI' : undefined, has('n') ? 'n' : undefined].filter((p) => p !== undefined).join(' ');
  };
  return {
    columns: groups.map((g) => (g.kind === 'plain' ? t.columns[g.at]! : `${g.metric} (${pattern((s) => g.at[s] !== undefined)})`)),
    rows: t.rows.map((r) => {
      const cells = formatRow(t, r, digits);
      return groups.map((g) => (g.kind === 'plain' ? cells[g.at]! : merged((s) => (g.at[s] === undefined ? undefined : cells[g.at[s]!]))));
    }),
  };
}

/** `t.parenthesized`: each inner column's cells in parentheses after its outer column's, then dropped. */
function parenthesized(t: Table, shown: { columns: string[]; rows: string[][] }): { columns: string[]; rows: string[][] } {
  const pairs = Object.entries(t.parenthesized ?? {})
    .map(([outer, inner]) => [t.columns.indexOf(outer), t.columns.indexOf(inner)] as const)
    .filter(([o, i]) => o >= 0 && i >= 0);
  if (pairs.length === 0) return shown;
  const inner = new Set(pairs.map(([, i]) => i));
  const keep = (_: unknown, k: number): boolean => !inner.has(k);
  const merge = (cells: readonly string[], wrap: (outer: string, inner: string) => string): string[] =>
    cells.map((c, k) => {
      const pair = pairs.find(([o]) => o === k);
      return pair === undefined ? c : wrap(c, cells[pair[1]]!);
    });
  return {
    columns: merge(shown.columns, (o, i) => `${o} (${i})`).filter(keep),
    rows: shown.rows.map((r) => merge(r, (o, i) => (o === '–' && i === '–' ? '–' : `${o} (${i})`)).filter(keep)),
  };
}

/** The table's rows as a Markdown table (no title). */
export function markdownTable(t: Table, digits: number): string {
  const { columns, rows } = displayTable(t, digits);
  const lines = [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
  return lines.join('\n');
}
