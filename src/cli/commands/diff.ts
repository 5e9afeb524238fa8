// `rethink diff A B [pipeline] [--json]`: how two results differ and why. A and B are stage instances
// of the pipeline (their current result, or last run) or key prefixes of any run record in the local
// cache (`rethink runs --json` lists them: last night's result against today's). It prints what
// differs in their key records (params, seed, inputs, plugin version or code: the causes), in their
// outputs (JSON fields from → to, tensors: how many values, the largest difference: the effects),
// and in their provenance (backend, library versions, git commit; not timings). Exit code 0 when the
// outputs are the same bytes, 1 when they differ, like diff(1).
import { jsonDocument } from '../../util/json-document.js';
import type { Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace, localOf, openStore, type Workspace } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import { diffKeys } from '../../exec/explain.js';
import { diffOutputs } from '../../exec/compare.js';
import type { RunRecord } from '../../store/types.js';
import type { StageId } from '../../util/brand.js';
import { jsonChanges } from '../../util/json-diff.js';
import { instanceResult, looksLikeKey, recordByKey, resolveInstance } from '../resolve.js';

/** Provenance fields that time a run: they differ between any two runs, so they are not shown. */
const TIMING = /seconds$|^kernel_tuning$/;

export const diff: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('diff', argv, pipelineFlags);
  const [a, b, pipeline, ...extra] = positionals;
  if (a === undefined || b === undefined || extra.length > 0) {
    throw UserError.of('E_BAD_FLAG', 'rethink diff takes two results and at most one pipeline', "e.g. rethink diff 'train[p=0]' 'train[p=1]' pipelines/x.yaml, or two key prefixes from rethink runs --json");
  }
  const store = await openStore(io, values);
  let ws: Workspace | undefined;
  const resolve = async (target: string): Promise<RunRecord> => {
    // Hex that starts a key is a key; hex that starts none is a stage id only where a pipeline is named.
    if (looksLikeKey(target) && (pipeline === undefined || (await localOf(store).keysStartingWith(target)).length > 0)) return recordByKey(localOf(store), target);
    ws ??= await loadWorkspace(io, pipeline, values.set ?? []);
    const { state, record } = await instanceResult(ws, store, resolveInstance(ws, target));
    if (!record) throw UserError.of('E_NOT_RUN', `${state.id} has not run yet (${state.reasons.join('; ')})`, `rethink run ${pipeline ?? ''} --only '${state.id}'`.replace('  ', ' '));
    return record;
  };
  const before = await resolve(a);
  const after = await resolve(b);

  // For instances of this pipeline, the upstream instance behind each single input.
  const sourceOf = (record: RunRecord) => (input: string): string | undefined => {
    const binding = ws?.plan.instances.get(record.stage.id as StageId)?.inputs.find((i) => i.name === input);
    return binding !== undefined && !binding.many && record.stage.pipeline === ws?.plan.pipeline ? binding.sources[0]?.id : undefined;
  };
  const causes = before.key === after.key ? [] : diffKeys(before.keyRecord, after.keyRecord, { before: sourceOf(before), after: sourceOf(after) });
  const outputs = await diffOutputs(before.outputs, after.outputs, (side, hash) => store.objectPath(hash), { before: 'A', after: 'B' });
  const environment = jsonChanges(withoutTimings(before.provenance), withoutTimings(after.provenance));
  const same = outputs.length === 0;

  if (values.json) {
    io.stdout(jsonDocument({ a: summary(before), b: summary(after), sameKey: before.key === after.key, key: causes, outputs, provenance: environment, same }));
    return same ? 0 : 1;
  }
  const lines = [`A  ${headline(before)}`, `B  ${headline(after)}`, ''];
  if (before.key === after.key) lines.push('key: the same (one result, or the same computation run twice)');
  else lines.push(`key: ${causes.length} difference${causes.length === 1 ? '' : 's'}`, ...causes.map((c) => `  ${c}`));
  const names = new Set([...Object.keys(before.outputs), ...Object.keys(after.outputs)]);
  lines.push(same ? `outputs: the same bytes (${names.size})` : `outputs: ${outputs.length} of ${names.size} differ`);
  for (const o of outputs) lines.push(`  ${o.output}`, ...o.details.map((d) => `    ${d}`));
  if (environment.length > 0) {
    lines.push('provenance (timings left out):');
    for (const c of environment) lines.push(`  ${c.path}: ${'before' in c ? JSON.stringify(c.before) : 'none'} → ${'after' in c ? JSON.stringify(c.after) : 'none'}`);
  }
  io.stdout(`${lines.join('\n')}\n`);
  return same ? 0 : 1;
};

function withoutTimings(provenance: RunRecord['provenance']): Record<string, unknown> {
  return Object.fromEntries(Object.entries(provenance).filter(([k]) => !TIMING.test(k)));
}

function summary(r: RunRecord) {
  return { id: r.stage.id, pipeline: r.stage.pipeline, key: r.key, startedAt: r.startedAt };
}

function headline(r: RunRecord): string {
  return `${r.stage.id}  key ${r.key.slice(0, 12)}  ran ${r.startedAt.slice(0, 19).replace('T', ' ')} UTC`;
}
