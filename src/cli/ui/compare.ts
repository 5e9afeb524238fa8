// GET /api/compare?keys=K1,K2,…: runs side by side, as `rethink diff` sees two: the key-record fields
// (params, seed, inputs, plugin version and code) whose values differ, each output's hash and whether
// all runs wrote the same bytes, and the metrics that differ.
import type { Cell, Comparison } from '../../ui/api.js';
import type { JsonValue } from '../../plugin/types.js';
import type { RunRecord } from '../../store/types.js';
import { isObject, metricsOutput } from './run-metrics.js';
import type { UiData } from './ui-data.js';

/** Every leaf of a JSON value by dotted path; arrays are leaves (a history is compared whole). */
function leaves(v: unknown, path: string, out: Map<string, unknown>): Map<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, child] of Object.entries(v)) leaves(child, path ? `${path}.${k}` : k, out);
  } else if (path) out.set(path, v);
  return out;
}

/** The paths whose values are not the same in every document, in first-seen order (absent: null). */
function differing(docs: readonly unknown[], skipArrays: boolean): { path: string; values: unknown[] }[] {
  const flat = docs.map((d) => leaves(d, '', new Map()));
  const paths = [...new Set(flat.flatMap((f) => [...f.keys()]))];
  return paths
    .map((path) => ({ path, values: flat.map((f) => (f.has(path) ? f.get(path) : null)) }))
    .filter(({ values }) => !(skipArrays && values.some(Array.isArray)) && new Set(values.map((v) => JSON.stringify(v))).size > 1);
}

export async function compare(data: UiData, keys: readonly string[]): Promise<Comparison> {
  const records: RunRecord[] = [];
  for (const k of keys) records.push(await data.record(k));
  const names = [...new Set(records.flatMap((r) => Object.keys(r.outputs)))];
  const outputs = names.map((name) => {
    const hashes = records.map((r) => (Object.hasOwn(r.outputs, name) ? r.outputs[name]!.hash : null));
    return { name, hashes, same: hashes.every((h) => h !== null && h === hashes[0]) };
  });
  const metrics = await Promise.all(records.map(async (r) => {
    const ref = metricsOutput(r);
    const doc = ref === undefined ? undefined : data.readJson(ref);
    return isObject(doc) ? doc : {};
  }));
  return {
    format: 1,
    runs: records.map((r) => ({ key: r.key, id: r.stage.id, stage: r.stage.name })),
    params: differing(records.map((r) => r.keyRecord), false),
    outputs,
    metrics: differing(metrics, true).map(({ path, values }) => ({ path, values: values.map(toCell) })),
  };
}

const toCell = (v: unknown): Cell => (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v as JsonValue));
