// `rethink results STAGE [pipeline] [--output NAME] [--metrics PATH]… [--over AXIS]… [--format …]`:
// a sweep's results as a table, straight from the cache, without adding an aggregate stage: a row per
// instance of STAGE (a name, an id or a glob), its matrix coordinates, then fields of one JSON output.
// Without --metrics the columns are the scalar fields whose values differ between rows, so a sweep
// shows what it changed and what that did. `--over seed` summarizes the seeds of each combination of
// the other axes (mean and sd, or `--stats`).
import { jsonDocument } from '../../util/json-document.js';
import { readFile } from 'node:fs/promises';
import type { Command } from '../io.js';
import { intFlag, parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, openStore } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import { explain } from '../../exec/explain.js';
import { selectInstances } from '../../plan/select.js';
import type { JsonValue, Scalar } from '../../plugin/types.js';
import { alignedRows } from '../render/plain.js';
import { formatRow, markdownTable, pick, toCsv } from '../../../stages/aggregate/plugin.js';
import { summaryTable, sweepTable, type Table } from '../../../stages/aggregate/summary.js';
import { STATS, type Stat } from '../../util/stats.js';

const FORMATS = ['text', 'md', 'csv', 'json'] as const;
/** Columns picked without --metrics, at most. */
const MAX_AUTO_COLUMNS = 12;

export const results: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('results', argv, {
    ...pipelineFlags,
    output: { type: 'string', value: 'NAME', help: 'the JSON output to tabulate (default: metrics, or the only JSON output)' },
    metrics: { type: 'string', multiple: true, value: 'PATH,…', help: 'the columns: dotted paths into the output (default: the fields that vary)' },
    format: { type: 'string', value: 'FORMAT', help: 'text (default), md, csv or json' },
    digits: { type: 'string', value: 'N', help: 'digits after the point (default 4)' },
    over: { type: 'string', multiple: true, value: 'AXIS', help: 'summarize over this matrix axis (e.g. seed): a row per combination of the others' },
    stats: { type: 'string', value: 'STAT,…', help: `with --over: ${STATS.join(', ')} (default mean,sd)` },
  });
  const [target, pipeline, ...extra] = positionals;
  if (!target || extra.length > 0) throw UserError.of('E_BAD_FLAG', 'rethink results takes a stage and at most one pipeline', 'e.g. rethink results train pipelines/figure1.yaml');
  const format = values.json ? 'json' : (values.format ?? 'text');
  if (!(FORMATS as readonly string[]).includes(format)) throw UserError.of('E_BAD_FLAG', `--format "${format}" is not a format`, `formats: ${FORMATS.join(', ')}`);
  const digits = intFlag('digits', values.digits, 0) ?? 4;
  const over = list(values.over);
  const asked = values.stats === undefined ? ['mean', 'sd'] : list([values.stats]);
  const stats = asked.filter(isStat);
  if (stats.length < asked.length || stats.length === 0) throw UserError.of('E_BAD_FLAG', `--stats "${asked.find((s) => !isStat(s)) ?? ''}" is not a statistic`, `statistics: ${STATS.join(', ')}`);
  if (values.stats !== undefined && over.length === 0) throw UserError.of('E_BAD_FLAG', '--stats needs --over, the axes to summarize over', 'e.g. --over seed --stats mean,sd,n');
  const ws = await loadWorkspace(io, pipeline, values.set ?? []);
  const selected = selectInstances(ws.plan, [target]);
  const instances = ws.plan.order.filter((id) => selected.has(id)).map((id) => ws.plan.instances.get(id)!);
  const sweep = { axes: [...new Set(instances.flatMap((i) => Object.keys(i.matrix)))], stages: instances.map((i) => i.stage) };
  const notAxes = over.filter((a) => !sweep.axes.includes(a));
  if (notAxes.length > 0) throw UserError.of('E_BAD_FLAG', `--over ${notAxes.join(',')}: not a matrix axis of "${target}"`, sweep.axes.length > 0 ? `its axes: ${sweep.axes.join(', ')}` : `"${target}" has no matrix axes to summarize over`);
  const output = values.output ?? defaultOutput(instances.map((i) => i.plugin.outputs));
  if (output === undefined || instances.some((i) => i.plugin.outputs[output]?.kind !== 'json')) {
    const names = [...new Set(instances.flatMap((i) => Object.entries(i.plugin.outputs).filter(([, o]) => o.kind === 'json').map(([n]) => n)))];
    throw UserError.of('E_BAD_FLAG', `${output === undefined ? `"${target}" has no single JSON output to tabulate` : `output "${output}" is not a JSON output of every instance of "${target}"`}`, names.length > 0 ? `--output ${names.join(' | ')}` : 'results tabulates JSON outputs (metrics)');
  }

  const store = await openStore(io, values);
  const states = (await explain(ws.plan, store)).filter((s) => selected.has(s.id));
  const docs: { id: string; stage: string; matrix: Readonly<Record<string, Scalar>>; doc: JsonValue }[] = [];
  for (const s of states) {
    if (s.status !== 'up-to-date') continue;
    const ref = (await store.readRun(s.key!))!.outputs[output];
    if (!ref) continue; // an optional output this instance did not write
    const inst = ws.plan.instances.get(s.id)!;
    docs.push({ id: s.id, stage: inst.stage, matrix: inst.matrix, doc: JSON.parse(await readFile(await store.objectPath(ref.hash), 'utf8')) as JsonValue });
  }
  const missing = states.filter((s) => s.status !== 'up-to-date');

  // A field that repeats the row's matrix coordinate (a param named like its axis) is not shown twice.
  const repeatsAxis = (path: string) => sweep.axes.includes(path) && docs.every((d) => pick(d.doc, path) === (d.matrix[path] ?? null));
  const metrics = values.metrics ? list(values.metrics) : varyingFields(docs.map((d) => d.doc)).filter((f) => !repeatsAxis(f));
  const shown = metrics.slice(0, values.metrics ? metrics.length : MAX_AUTO_COLUMNS);
  const rows = docs.map((d) => ({ stage: d.stage, matrix: d.matrix, values: shown.map((m) => pick(d.doc, m)) }));
  let table: Table;
  // The instance ids behind each row: one per row, or the runs a summary row gathers.
  let ids: readonly (string | readonly string[])[];
  if (over.length > 0) {
    const summary = summaryTable(rows, shown, over, stats, sweep);
    ids = summary.members.map((m) => m.map((i) => docs[i]!.id));
    const { members: _, ...rest } = summary;
    table = rest;
  } else {
    table = sweepTable(rows, shown, sweep);
    ids = docs.map((d) => d.id);
  }

  if (format === 'json') {
    io.stdout(jsonDocument({ pipeline: ws.file.source.file, output, ...table, ids, missing: missing.map((s) => ({ id: s.id, reasons: s.reasons })) }));
  } else if (format === 'csv') io.stdout(toCsv(table));
  else if (format === 'md') io.stdout(`${markdownTable(table, digits)}\n`);
  else io.stdout(textTable(table, digits));
  if (format !== 'json') {
    if (metrics.length > shown.length) io.stderr(`${metrics.length - shown.length} more fields vary (${metrics.slice(shown.length, shown.length + 4).join(', ')}, …): choose with --metrics\n`);
    if (docs.length === 0) io.stderr(`no instance of "${target}" is up to date\n`);
    const run = `rethink run ${pipeline ?? ''}`.trimEnd();
    if (missing.length > 0) io.stderr(`${missing.length} not up to date, not shown (run \`${run}\` first): ${missing.slice(0, 5).map((s) => s.id).join(', ')}${missing.length > 5 ? ', …' : ''}\n`);
  }
  return 0;
};

const isStat = (s: string): s is Stat => (STATS as readonly string[]).includes(s);

/** Comma-separated flag values, each trimmed, empty ones dropped. */
const list = (raw: readonly string[] | undefined): string[] => (raw ?? []).flatMap((m) => m.split(',')).map((m) => m.trim()).filter(Boolean);

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

/** Columns padded to their widest cell; numbers right-aligned. */
function textTable(t: Table, digits: number): string {
  const numeric = t.columns.map((_, c) => t.rows.length > 0 && t.rows.every((r) => r[c] === null || typeof r[c] === 'number'));
  return alignedRows([t.columns.map(String), ...t.rows.map((r) => formatRow(t, r, digits))], numeric);
}
