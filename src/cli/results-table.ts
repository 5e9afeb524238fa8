// A stage's results as a table, from the cache: what `rethink results` prints and `rethink ui`'s sweep
// page shows. A row per up-to-date instance (its matrix coordinates, then fields of one JSON output),
// or, summarized over some axes (`over`), a row per combination of the others. Errors are the user's
// (a bad output, axis or statistic name) and name what would be valid.
import { readFile } from 'node:fs/promises';
import { UserError } from '../util/user-error.js';
import { explain, type StageState } from '../exec/explain.js';
import { selectInstances } from '../plan/select.js';
import type { JsonValue, Scalar } from '../plugin/types.js';
import type { OutputRef, Store } from '../store/types.js';
import { pick } from '../../stages/aggregate/plugin.js';
import { summaryTable, sweepTable, type Table } from '../../stages/aggregate/summary.js';
import type { Stat } from '../util/stats.js';
import type { Workspace } from './workspace.js';

/** Columns picked without explicit metrics, at most. */
export const MAX_AUTO_COLUMNS = 12;

export interface ResultsQuery {
  /** A stage name, an instance id or a glob. */
  readonly target: string;
  /** The JSON output to tabulate (default: metrics, or the only JSON output). */
  readonly output?: string | undefined;
  /** The columns, as dotted paths (default: the fields that vary, at most MAX_AUTO_COLUMNS). */
  readonly metrics?: readonly string[] | undefined;
  /** Axes to summarize over (empty: a row per instance). */
  readonly over: readonly string[];
  readonly stats: readonly Stat[];
}

/** How the table's sources are read; `rethink ui` passes its cached readers. */
export interface ResultsSources {
  /** The pipeline's states, when the caller has them already. */
  readonly states?: readonly StageState[];
  readonly readJson?: (ref: OutputRef) => Promise<JsonValue>;
}

export interface ResultsTable {
  readonly output: string;
  readonly axes: readonly string[];
  readonly table: Table;
  /** The instance ids behind each row: one per row, or the runs a summary row gathers. */
  readonly ids: readonly (string | readonly string[])[];
  /** The cache key of each row's run (null for a summary row). */
  readonly keys: readonly (string | null)[];
  /** Every field that varies (or was asked for), of which `table` shows the first ones. */
  readonly metrics: readonly string[];
  readonly shown: readonly string[];
  /** The scalar fields that vary between rows (what `metrics` defaults to). */
  readonly fields: readonly string[];
  /** Selected instances with no up-to-date result, left out of the table. */
  readonly missing: readonly StageState[];
}

export async function resultsTable(ws: Workspace, store: Store, query: ResultsQuery, sources: ResultsSources = {}): Promise<ResultsTable> {
  const { target, over, stats } = query;
  const selected = selectInstances(ws.plan, [target]);
  const instances = ws.plan.order.filter((id) => selected.has(id)).map((id) => ws.plan.instances.get(id)!);
  const sweep = { axes: [...new Set(instances.flatMap((i) => Object.keys(i.matrix)))], stages: instances.map((i) => i.stage) };
  const notAxes = over.filter((a) => !sweep.axes.includes(a));
  if (notAxes.length > 0) throw UserError.of('E_BAD_FLAG', `--over ${notAxes.join(',')}: not a matrix axis of "${target}"`, sweep.axes.length > 0 ? `its axes: ${sweep.axes.join(', ')}` : `"${target}" has no matrix axes to summarize over`);
  const output = query.output ?? defaultOutput(instances.map((i) => i.plugin.outputs));
  if (output === undefined || instances.some((i) => i.plugin.outputs[output]?.kind !== 'json')) {
    const names = [...new Set(instances.flatMap((i) => Object.entries(i.plugin.outputs).filter(([, o]) => o.kind === 'json').map(([n]) => n)))];
    throw UserError.of('E_BAD_FLAG', `${output === undefined ? `"${target}" has no single JSON output to tabulate` : `output "${output}" is not a JSON output of every instance of "${target}"`}`, names.length > 0 ? `--output ${names.join(' | ')}` : 'results tabulates JSON outputs (metrics)');
  }
  const readJson = sources.readJson ?? (async (ref: OutputRef) => JSON.parse(await readFile(await store.objectPath(ref.hash), 'utf8')) as JsonValue);
  const states = (sources.states ?? (await explain(ws.plan, store))).filter((s) => selected.has(s.id));
  const docs: { id: string; key: string; stage: string; matrix: Readonly<Record<string, Scalar>>; doc: JsonValue }[] = [];
  for (const s of states) {
    if (s.status !== 'up-to-date') continue;
    const ref = (await store.readRun(s.key!))?.outputs[output];
    if (!ref) continue; // an optional output this instance did not write
    const inst = ws.plan.instances.get(s.id)!;
    docs.push({ id: s.id, key: s.key!, stage: inst.stage, matrix: inst.matrix, doc: await readJson(ref) });
  }
  const missing = states.filter((s) => s.status !== 'up-to-date');

  // A field that repeats the row's matrix coordinate (a param named like its axis) is not shown twice.
  const repeatsAxis = (path: string) => sweep.axes.includes(path) && docs.every((d) => pick(d.doc, path) === (d.matrix[path] ?? null));
  const fields = varyingFields(docs.map((d) => d.doc)).filter((f) => !repeatsAxis(f));
  const metrics = query.metrics ?? fields;
  const shown = metrics.slice(0, query.metrics ? metrics.length : MAX_AUTO_COLUMNS);
  const rows = docs.map((d) => ({ stage: d.stage, matrix: d.matrix, values: shown.map((m) => pick(d.doc, m)) }));
  if (over.length > 0) {
    const { members, ...table } = summaryTable(rows, shown, over, stats, sweep);
    return { output, axes: sweep.axes, table, ids: members.map((m) => m.map((i) => docs[i]!.id)), keys: members.map(() => null), metrics, shown, fields, missing };
  }
  return { output, axes: sweep.axes, table: sweepTable(rows, shown, sweep), ids: docs.map((d) => d.id), keys: docs.map((d) => d.key), metrics, shown, fields, missing };
}

/** `metrics` if every instance has that JSON output, else their one JSON output, if they share it. */
function defaultOutput(specs: readonly Readonly<Record<string, { readonly kind: string }>>[]): string | undefined {
  const json = (s: Readonly<Record<string, { readonly kind: string }>>) => Object.keys(s).filter((n) => s[n]!.kind === 'json');
  if (specs.length > 0 && specs.every((s) => s['metrics']?.kind === 'json')) return 'metrics';
  const names = new Set(specs.flatMap(json));
  return names.size === 1 && specs.every((s) => json(s).length === 1) ? [...names][0] : undefined;
}

/**
 * The dotted paths of scalar fields (outside arrays) whose values are not the same in every document
 * (or that some documents lack), in the order they first appear; with one document, all of them.
 */
export function varyingFields(docs: readonly JsonValue[]): string[] {
  const seen = new Map<string, { values: Set<string>; count: number }>();
  const walk = (v: JsonValue, path: string): void => {
    if (Array.isArray(v)) return;
    if (v !== null && typeof v === 'object') {
      for (const [k, child] of Object.entries(v as Record<string, JsonValue>)) walk(child, path ? `${path}.${k}` : k);
      return;
    }
    const field = seen.get(path) ?? { values: new Set<string>(), count: 0 };
    field.values.add(JSON.stringify(v));
    field.count++;
    seen.set(path, field);
  };
  for (const d of docs) walk(d, '');
  return [...seen].filter(([, f]) => docs.length === 1 || f.values.size > 1 || f.count < docs.length).map(([path]) => path);
}
