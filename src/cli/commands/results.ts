// `rethink results STAGE [pipeline] [--output NAME] [--metrics PATH]… [--over AXIS]… [--format …]`:
// a sweep's results as a table, straight from the cache, without adding an aggregate stage: a row per
// instance of STAGE (a name, an id or a glob), its matrix coordinates, then fields of one JSON output.
// Without --metrics the columns are the scalar fields whose values differ between rows, so a sweep
// shows what it changed and what that did. `--over seed` summarizes the seeds of each combination of
// the other axes (mean and sd, or `--stats`).
import { jsonDocument } from '../../util/json-document.js';
import type { Command } from '../io.js';
import { intFlag, parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, openStore } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import { alignedRows } from '../render/plain.js';
import { formatRow, markdownTable } from '../../../stages/aggregate/plugin.js';
import { toCsv } from '../../util/csv.js';
import type { Table } from '../../../stages/aggregate/summary.js';
import { resultsTable } from '../results-table.js';
import { STATS, type Stat } from '../../util/stats.js';

const FORMATS = ['text', 'md', 'csv', 'json'] as const;

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
  const store = await openStore(io, values);
  const { output, table, ids, metrics, shown, missing } = await resultsTable(ws, store, { target, output: values.output, metrics: values.metrics ? list(values.metrics) : undefined, over, stats });
  const rowCount = table.rows.length;

  if (format === 'json') {
    io.stdout(jsonDocument({ pipeline: ws.file.source.file, output, ...table, ids, missing: missing.map((s) => ({ id: s.id, reasons: s.reasons })) }));
  } else if (format === 'csv') io.stdout(toCsv(table));
  else if (format === 'md') io.stdout(`${markdownTable(table, digits)}\n`);
  else io.stdout(textTable(table, digits));
  if (format !== 'json') {
    if (metrics.length > shown.length) io.stderr(`${metrics.length - shown.length} more fields vary (${metrics.slice(shown.length, shown.length + 4).join(', ')}, …): choose with --metrics\n`);
    if (rowCount === 0) io.stderr(`no instance of "${target}" is up to date\n`);
    const run = `rethink run ${pipeline ?? ''}`.trimEnd();
    if (missing.length > 0) io.stderr(`${missing.length} not up to date, not shown (run \`${run}\` first): ${missing.slice(0, 5).map((s) => s.id).join(', ')}${missing.length > 5 ? ', …' : ''}\n`);
  }
  return 0;
};

const isStat = (s: string): s is Stat => (STATS as readonly string[]).includes(s);

/** Comma-separated flag values, each trimmed, empty ones dropped. */
const list = (raw: readonly string[] | undefined): string[] => (raw ?? []).flatMap((m) => m.split(',')).map((m) => m.trim()).filter(Boolean);

/** Columns padded to their widest cell; numbers right-aligned. */
function textTable(t: Table, digits: number): string {
  const numeric = t.columns.map((_, c) => t.rows.length > 0 && t.rows.every((r) => r[c] === null || typeof r[c] === 'number'));
  return alignedRows([t.columns.map(String), ...t.rows.map((r) => formatRow(t, r, digits))], numeric);
}
