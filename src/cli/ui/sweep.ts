// GET /api/pipelines/:pipeline/sweep/:stage (and .csv): `rethink results` as a document. Query:
// ?output=NAME, ?metrics=a.b,c (the columns), ?over=seed (summary rows), ?stats=mean,sd.
import type { Cell, Sweep } from '../../ui/api.js';
import { resultsTable, type ResultsTable } from '../results-table.js';
import { UserError } from '../../util/user-error.js';
import { STATS, type Stat } from '../../util/stats.js';
import { toCsv } from '../../util/csv.js';
import { HttpError, badRequest } from './http-error.js';
import type { UiData } from './ui-data.js';

const list = (raw: string | null): string[] => (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const isStat = (s: string): s is Stat => (STATS as readonly string[]).includes(s);

async function table(data: UiData, pipeline: string, stage: string, query: URLSearchParams): Promise<ResultsTable> {
  const p = await data.pipeline(pipeline);
  const over = list(query.get('over'));
  const stats = query.has('stats') ? list(query.get('stats')) : ['mean', 'sd'];
  const bad = stats.find((s) => !isStat(s));
  if (bad !== undefined || stats.length === 0) throw badRequest(`stats: "${bad ?? ''}" is not a statistic; statistics: ${STATS.join(', ')}`);
  const metrics = query.has('metrics') ? list(query.get('metrics')) : undefined;
  if (!p.ws.plan.order.some((id) => p.ws.plan.instances.get(id)!.stage === stage)) {
    throw new HttpError(404, 'E_NOT_FOUND', `no stage "${stage}" in ${p.display}`);
  }
  try {
    return await resultsTable(p.ws, data.store, { target: stage, output: query.get('output') ?? undefined, metrics, over, stats: stats.filter(isStat) }, {
      states: await data.states(p),
      readJson: async (ref) => data.readJson(ref) ?? null,
    });
  } catch (e) {
    // The table's errors name the command's flags; here they are query parameters (`--over x` → `over=x`).
    const asQuery = (text: string) => text.replace(/--(over|output|stats|metrics) /g, '$1=');
    if (e instanceof UserError) throw badRequest(e.diagnostics.map((d) => asQuery(`${d.message}${d.hint ? ` (${d.hint})` : ''}`)).join('; '));
    throw e;
  }
}

export async function sweep(data: UiData, pipeline: string, stage: string, query: URLSearchParams): Promise<Sweep> {
  const t = await table(data, pipeline, stage, query);
  const { columns, rows } = t.table;
  const coordinates = t.table.coordinates ?? 0;
  return {
    format: 1,
    stage,
    output: t.output,
    axes: t.axes,
    columns,
    rows: rows.map((r, i) => {
      const ids = t.ids[i]!;
      const cells = Object.fromEntries(columns.map((c, j) => [c, (r[j] ?? null) as Cell]));
      const label = typeof ids === 'string' ? ids : `${stage}[${columns.slice(0, coordinates).map((c, j) => `${c}=${String(r[j])}`).join(',')}]`;
      return { id: label, key: t.keys[i] ?? null, cells };
    }),
    fields: t.fields,
    missing: t.missing.map((s) => ({ id: s.id, reason: s.reasons.join('; ') })),
  };
}

export async function sweepCsv(data: UiData, pipeline: string, stage: string, query: URLSearchParams): Promise<string> {
  return toCsv((await table(data, pipeline, stage, query)).table);
}
