// What `show` and `diff` point at: a stage instance of the pipeline (its current result, or its last
// run when it is out of date), or, for `diff`, any run record in the local cache by its key's prefix.
import { UserError } from '../util/user-error.js';
import { explain, type StageState } from '../exec/explain.js';
import type { LocalStore } from '../store/local.js';
import type { RunRecord, Store } from '../store/types.js';
import type { StageId } from '../util/brand.js';
import type { Workspace } from './workspace.js';

/** The one instance `target` names: its id, or a stage with a single instance. */
export function resolveInstance(ws: Workspace, target: string): StageId {
  const matches = ws.plan.order.filter((id) => id === target || ws.plan.instances.get(id)!.stage === target);
  if (matches.length === 0) throw UserError.of('E_NO_MATCH', `no stage "${target}" in ${ws.file.source.file}`, `ids: ${ws.plan.order.slice(0, 8).join(', ')}${ws.plan.order.length > 8 ? ', …' : ''}`);
  if (matches.length > 1) throw UserError.of('E_AMBIGUOUS', `"${target}" has ${matches.length} instances; name one`, matches.slice(0, 10).join(', '));
  return matches[0]!;
}

/** An instance's current result, or its last run's when it is out of date (none: never run). */
export async function instanceResult(ws: Workspace, store: Store, id: StageId): Promise<{ state: StageState; record: RunRecord | undefined }> {
  const state = (await explain(ws.plan, store)).find((s) => s.id === id)!;
  const key = state.key && state.status === 'up-to-date' ? state.key : (await store.readRefs(ws.plan.pipeline))[id];
  return { state, record: key ? await store.readRun(key) : undefined };
}

/** Whether `target` reads as a key prefix (hex, 6 to 64 characters) rather than a stage id. */
export const looksLikeKey = (target: string): boolean => /^[0-9a-f]{6,64}$/.test(target);

/** The run record whose key starts with `prefix`; a user error when none or several do. */
export async function recordByKey(store: LocalStore, prefix: string): Promise<RunRecord> {
  const keys = await store.keysStartingWith(prefix);
  if (keys.length === 0) throw UserError.of('E_NO_MATCH', `no run record in ${store.location} has a key starting with ${prefix}`, 'keys: rethink runs --json');
  if (keys.length > 1) throw UserError.of('E_AMBIGUOUS', `${keys.length} run records have keys starting with ${prefix}`, `give more characters: ${keys.slice(0, 4).map((k) => k.slice(0, prefix.length + 4)).join(', ')}`);
  const record = await store.readRun(keys[0]!);
  if (!record) throw UserError.of('E_NO_MATCH', `run record ${keys[0]} cannot be read`);
  return record;
}
