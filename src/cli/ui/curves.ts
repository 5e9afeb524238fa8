// GET /api/runs/:key/curves and /api/curves?keys=…: a training run's learning curves, per epoch and
// per step, from its metrics output (`history`, `steps`: what the train stage writes).
import type { CurvePoint, Curves } from '../../ui/api.js';
import type { JsonValue } from '../../plugin/types.js';
import { badRequest } from './http-error.js';
import { isObject, metricsOutput } from './run-metrics.js';
import { parseKey } from './security.js';
import type { UiData } from './ui-data.js';

/** How many runs one request may overlay. */
export const MAX_KEYS = 1000;

const num = (v: JsonValue | undefined): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function point(e: JsonValue, index: number, field: 'epoch' | 'step'): CurvePoint | undefined {
  if (!isObject(e)) return undefined;
  const loss = num(e['loss']);
  const acc = num(e['acc']);
  if (loss === undefined || acc === undefined) return undefined;
  const optional = { step: num(e['step']), testLoss: num(e['testLoss']), testAcc: num(e['testAcc']), lr: num(e['lr']) };
  return {
    epoch: field === 'epoch' ? (num(e['epoch']) ?? index + 1) : (num(e['epoch']) ?? 0),
    loss,
    acc,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

/** The epoch and step points of a metrics document (empty when it has no history). */
export function curvesOf(metrics: { readonly [k: string]: JsonValue }): { epochs: CurvePoint[]; steps: CurvePoint[] } {
  const list = (v: JsonValue | undefined, field: 'epoch' | 'step') =>
    Array.isArray(v) ? v.map((e, i) => point(e, i, field)).filter((p): p is CurvePoint => p !== undefined) : [];
  return { epochs: list(metrics['history'], 'epoch'), steps: list(metrics['steps'], 'step') };
}

export async function runCurves(data: UiData, key: string): Promise<Curves> {
  const record = await data.record(key);
  const ref = metricsOutput(record);
  const metrics = ref === undefined ? undefined : data.readJson(ref);
  const { epochs, steps } = isObject(metrics) ? curvesOf(metrics) : { epochs: [], steps: [] };
  return { format: 1, key, id: record.stage.id, matrix: matrixOf(record.stage.id), epochs, steps };
}

/** `?keys=K1,K2,…`: validated, at least one, at most MAX_KEYS. */
export function keysParam(query: URLSearchParams, least: number): string[] {
  const keys = (query.get('keys') ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  if (keys.length < least) throw badRequest(`keys: give at least ${least} cache key${least === 1 ? '' : 's'}, comma-separated (?keys=K1,K2)`);
  if (keys.length > MAX_KEYS) throw badRequest(`keys: at most ${MAX_KEYS} at once`);
  return keys.map(parseKey);
}

/**
 * The matrix coordinates an instance id carries (`train[model=mlp,seed=0]` → {model: 'mlp', seed: 0}):
 * the record keeps the id, and its params do not say which of them are axes.
 */
export function matrixOf(id: string): Record<string, string | number | boolean | null> {
  const inner = /\[(.*)\]$/.exec(id)?.[1];
  if (inner === undefined) return {};
  const out: Record<string, string | number | boolean | null> = {};
  for (const part of inner.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const raw = part.slice(eq + 1);
    out[part.slice(0, eq)] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}
