// GET /api/runs/:key: one run as `rethink show` describes it: params, key record, metrics,
// provenance, and each output with its size, hash, download link and (tensors) shapes.
import type { OutputInfo, RunDetail } from '../../ui/api.js';
import { openTensorArtifact } from '../../tensors/sharded.js';
import type { OutputRef } from '../../store/types.js';
import { isObject, metricsOutput } from './run-metrics.js';
import { curvesOf } from './curves.js';
import type { UiData } from './ui-data.js';

export async function runDetail(data: UiData, key: string): Promise<RunDetail> {
  const record = await data.record(key);
  const pipeline = data.pipelineOfRecord(record);
  const metricsRef = metricsOutput(record);
  const metrics = metricsRef === undefined ? undefined : data.readJson(metricsRef);
  const metricsDoc = isObject(metrics) ? metrics : null;
  const outputs: OutputInfo[] = [];
  for (const [name, ref] of Object.entries(record.outputs)) outputs.push(await outputInfo(data, key, name, ref));
  return {
    format: 1,
    key,
    stage: record.stage.name,
    plugin: record.keyRecord.plugin,
    pipeline: pipeline?.id ?? null,
    instance: record.stage.id,
    params: record.keyRecord.params,
    keyRecord: record.keyRecord as unknown as Record<string, unknown>,
    metrics: metricsDoc,
    provenance: { ...record.provenance, startedAt: record.startedAt, seconds: record.seconds, pipelineFile: record.stage.pipeline },
    outputs,
    log: null,
    hasCurves: metricsDoc !== null && curvesOf(metricsDoc).epochs.length > 0,
  };
}

/** The URL of an output's bytes; its name is encoded (output names are the plugin's, not the user's). */
export const outputHref = (key: string, name: string): string => `/api/runs/${key}/outputs/${encodeURIComponent(name)}`;

async function outputInfo(data: UiData, key: string, name: string, ref: OutputRef): Promise<OutputInfo> {
  const base = { name, kind: ref.kind, hash: ref.hash, bytes: ref.size, href: outputHref(key, name) };
  if (ref.kind !== 'tensors') return base;
  const path = data.local.servedObjectPath(ref.hash);
  const parts = ref.parts?.map((p) => [p.hash, data.local.servedObjectPath(p.hash)] as const);
  if (path === undefined || parts?.some(([, at]) => at === undefined)) return base;
  try {
    const f = await openTensorArtifact(path, parts === undefined ? undefined : new Map(parts as (readonly [string, string])[]));
    try {
      return { ...base, tensors: Object.entries(f.tensors).map(([n, t]) => ({ name: n, dtype: t.dtype, shape: [...t.shape] })) };
    } finally {
      await f.close();
    }
  } catch {
    return base; // not readable as tensors: shown as bytes
  }
}
