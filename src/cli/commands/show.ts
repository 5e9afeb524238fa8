// `rethink show STAGE [pipeline] [--json]`: outputs (tensor shapes, small JSON inline), key record,
// provenance and timings of a stage's current result, or of its last run if it is out of date.
import { jsonDocument } from '../../util/json-document.js';
import type { Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, openStore } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import { instanceResult, resolveInstance } from '../resolve.js';
import { openTensorArtifact } from '../../tensors/sharded.js';
import { shardPaths } from '../../store/parts.js';
import { readFile } from 'node:fs/promises';
import type { OutputRef, Store } from '../../store/types.js';
import type { JsonValue } from '../../plugin/types.js';
import { resourcesOf } from '../../plan/resources.js';
import { resourcesText } from '../render/resources.js';

export const show: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('show', argv, pipelineFlags);
  const [target, pipeline] = positionals;
  if (!target) throw UserError.of('E_BAD_FLAG', 'rethink show needs a stage id', 'e.g. rethink show train[model=mlp_1x512] pipelines/x.yaml');
  const ws = await loadWorkspace(io, pipeline, values.set ?? []);
  const id = resolveInstance(ws, target);
  const store = await openStore(io, values);
  const { state, record } = await instanceResult(ws, store, id);
  const inst = ws.plan.instances.get(id)!;
  const resources = inst.resources ?? resourcesOf(inst.plugin);
  const placement = inst.placement ?? 'any';
  const needs = `  needs    ${resourcesText(resources, placement)}`;
  if (!record) {
    if (values.json) io.stdout(jsonDocument({ id, status: state.status, reasons: state.reasons, resources, placement, record: null }, undefined));
    else io.stdout(`${id}: not run yet (${state.reasons.join('; ')})\n${needs}\n`);
    return 0;
  }
  const outputs: Record<string, JsonValue> = {};
  for (const [name, ref] of Object.entries(record.outputs)) {
    const parts = ref.parts === undefined ? {} : { parts: ref.parts.map((p) => ({ hash: p.hash, size: p.size })) };
    outputs[name] = { hash: ref.hash, kind: ref.kind, size: ref.size, ...parts, ...(await describe(store, ref)) };
  }
  const doc = { id, status: state.status, reasons: state.reasons, key: record.key, startedAt: record.startedAt, seconds: record.seconds, resources, placement, outputs, keyRecord: record.keyRecord, provenance: record.provenance };
  if (values.json) {
    io.stdout(jsonDocument(doc));
    return 0;
  }
  const lines = [
    `${id}  ${state.status === 'up-to-date' ? 'up to date' : `OUT OF DATE (${state.reasons.join('; ')}); showing the last run`}`,
    `  key      ${record.key}`,
    `  ran      ${record.startedAt} in ${record.seconds.toFixed(2)}s`,
    needs,
    '  outputs',
    ...Object.entries(outputs).flatMap(([name, o]) => describeLines(name, o as Record<string, JsonValue>)),
    '  key record',
    ...JSON.stringify(record.keyRecord, null, 2).split('\n').map((l) => `    ${l}`),
    '  provenance',
    ...Object.entries(record.provenance).map(([k, v]) => `    ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
  ];
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
};

async function describe(store: Store, ref: OutputRef): Promise<Record<string, JsonValue>> {
  const { kind } = ref;
  const path = await store.objectPath(ref.hash);
  if (kind === 'tensors') {
    const f = await openTensorArtifact(path, await shardPaths(store, ref));
    try {
      return { path, tensors: Object.fromEntries(Object.entries(f.tensors).map(([k, t]) => [k, `${t.dtype}[${t.shape.join(',')}]`])), metadata: { ...f.metadata } };
    } finally {
      await f.close();
    }
  }
  if (kind === 'json') {
    const text = await readFile(path, 'utf8');
    return text.length <= 4000 ? { path, value: JSON.parse(text) as JsonValue } : { path };
  }
  return { path };
}

function describeLines(name: string, o: Record<string, JsonValue>): string[] {
  const out = [`    ${name}  ${o.kind}  ${o.hash}  ${o.size} bytes`, `      ${o.path}`];
  if (Array.isArray(o.parts)) {
    const parts = o.parts as { size: number }[];
    out.push(`      in ${parts.length} shards, ${parts.reduce((n, p) => n + p.size, 0)} bytes (RETHINK_SHARD_BYTES)`);
  }
  if (o.tensors) for (const [k, v] of Object.entries(o.tensors as Record<string, string>)) out.push(`      ${k}: ${v}`);
  if (o.metadata) for (const [k, v] of Object.entries(o.metadata as Record<string, string>)) out.push(`      meta ${k}: ${v.length > 100 ? `${v.slice(0, 100)}…` : v}`);
  if (o.value !== undefined) out.push(...JSON.stringify(o.value, null, 2).split('\n').map((l) => `      ${l}`));
  return out;
}
