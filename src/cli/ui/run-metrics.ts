// Which output of a run holds its metrics, and a guard for JSON objects: shared by the run, curves
// and compare routes.
import type { JsonValue } from '../../plugin/types.js';
import type { OutputRef, RunRecord } from '../../store/types.js';

/** The `metrics` output, or the only JSON output. */
export function metricsOutput(record: RunRecord): OutputRef | undefined {
  if (record.outputs['metrics']?.kind === 'json') return record.outputs['metrics'];
  const json = Object.values(record.outputs).filter((o) => o.kind === 'json');
  return json.length === 1 ? json[0] : undefined;
}

export const isObject = (v: JsonValue | undefined): v is { readonly [k: string]: JsonValue } => v !== null && typeof v === 'object' && !Array.isArray(v);
