// `status`: for each instance, up to date or will run, and why: the fields of its key record that
// differ from the last run of the same stage id (params, seed, plugin version, inputs), or "never run".
import type { CacheKey, StageId } from '../util/brand.js';
import { canonicalJson } from '../util/canonical-json.js';
import { type KeyRecord } from '../plan/key.js';
import type { Plan } from '../plan/plan.js';
import type { OutputRef, Store } from '../store/types.js';
import { inputKeys, lookup } from './executor.js';
import { describeHolder } from '../store/leases.js';
import { jsonChanges } from '../util/json-diff.js';
import { instanceId, type Combo } from '../plan/expand.js';

export interface StageState {
  readonly id: StageId;
  readonly status: 'up-to-date' | 'will-run';
  readonly key: CacheKey | null;
  readonly reasons: readonly string[];
  /** Up to date thanks to a result on the shared remote (nothing downloaded yet). */
  readonly remote?: true;
  /** A will-run key that another process sharing the cache is computing now: who. */
  readonly runningIn?: string;
}

export async function explain(plan: Plan, store: Store): Promise<StageState[]> {
  const refs = await store.readRefs(plan.pipeline);
  const outputs = new Map<StageId, Readonly<Record<string, OutputRef>>>();
  const states = new Map<StageId, Promise<StageState>>();
  const one = async (id: StageId): Promise<StageState> => {
    const inst = plan.instances.get(id)!;
    const ups = [...new Set(inst.inputs.flatMap((b) => b.sources.map((s) => s.id)))];
    const upStates = await Promise.all(ups.map((u) => states.get(u)!));
    const pending = upStates.filter((s) => s.status === 'will-run');
    const prev = refs[id] ? await store.readRun(refs[id]) : undefined;
    if (pending.length > 0) {
      const reasons = [`upstream ${pending[0]!.id} will run${pending.length > 1 ? ` (and ${pending.length - 1} more)` : ''}`];
      if (prev) {
        // What the stage reads outside the store is known now, unlike its inputs: compare it too.
        const fingerprint = inst.plugin.fingerprint ? await inst.plugin.fingerprint(inst.params as never) : undefined;
        reasons.push(...diffKeys(prev.keyRecord, { ...inst.keyBase, ...(fingerprint === undefined ? {} : { fingerprint }), inputs: prev.keyRecord.inputs }));
      }
      return { id, status: 'will-run', key: null, reasons };
    }
    const hit = await lookup(store, inst, inputKeys(plan, inst, (u) => outputs.get(u)!));
    if (hit.record) {
      outputs.set(id, hit.record.outputs);
      return { id, status: 'up-to-date', key: hit.key, reasons: [], ...(store.originOf?.(hit.key) === 'remote' ? { remote: true as const } : {}) };
    }
    const holder = await store.leases?.holderOf(hit.key);
    const running = holder ? { runningIn: describeHolder(holder) } : {};
    if (!prev) return { id, status: 'will-run', key: hit.key, reasons: ['never run'], ...running };
    const reasons = prev.key === hit.key ? ['outputs missing from the cache'] : diffKeys(prev.keyRecord, hit.keyRecord);
    return { id, status: 'will-run', key: hit.key, reasons: reasons.length > 0 ? reasons : ['key changed'], ...running };
  };
  for (const id of plan.order) states.set(id, one(id)); // plan order is topological: upstream promises exist first
  return Promise.all(plan.order.map((id) => states.get(id)!));
}

/**
 * What differs between two key records, in words. `sources`, where the caller knows them, names the
 * upstream instance each single input came from on either side (`diff` of two instances of one plan).
 */
export function diffKeys(before: KeyRecord, after: KeyRecord, sources?: { readonly before: (input: string) => string | undefined; readonly after: (input: string) => string | undefined }): string[] {
  const out: string[] = [];
  if (before.plugin !== after.plugin) out.push(`plugin ${before.plugin} → ${after.plugin}`);
  if (before.version !== after.version) out.push(`plugin version ${before.version} → ${after.version}`);
  if (before.code !== after.code) {
    const [a, b] = [before.codeFiles ?? {}, after.codeFiles ?? {}];
    const changed = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => a[f] !== b[f]).sort();
    out.push(changed.length > 0 && before.codeFiles && after.codeFiles ? `plugin code changed (${changed.join(', ')})` : 'plugin code changed');
  }
  if (before.seed !== after.seed) out.push(`seed ${show(before.seed)} → ${show(after.seed)}`);
  for (const c of jsonChanges(before.params, after.params)) {
    if (c.kind === 'added') out.push(`param ${c.path} added (${show(c.after)})`);
    else if (c.kind === 'removed') out.push(`param ${c.path} removed (was ${show(c.before)})`);
    else out.push(`param ${c.path} ${show(c.before)} → ${show(c.after)}`);
  }
  if (canonicalJson(before.fingerprint) !== canonicalJson(after.fingerprint)) {
    // A structured fingerprint (command's `files.bench.py`, `version`) names what moved.
    const moved = jsonChanges(before.fingerprint, after.fingerprint).flatMap((c) => (c.path === '' ? [] : [c.kind === 'changed' ? c.path : `${c.path} ${c.kind}`]));
    out.push(`the files it reads changed (fingerprint${moved.length > 0 ? `: ${moved.join(', ')}` : ''})`);
  }
  const names = new Set([...Object.keys(before.inputs), ...Object.keys(after.inputs)]);
  for (const n of names) {
    const a = before.inputs[n];
    const b = after.inputs[n];
    if (canonicalJson(a) === canonicalJson(b)) continue;
    if (a === undefined) out.push(`input ${n} added`);
    else if (b === undefined) out.push(`input ${n} removed`);
    else if (Array.isArray(a) && Array.isArray(b)) {
      const ah = new Map(a.map((e) => [canonicalJson([e.stage, e.matrix]), e]));
      const bh = new Map(b.map((e) => [canonicalJson([e.stage, e.matrix]), e]));
      const added = [...bh.keys()].filter((k) => !ah.has(k));
      const removed = [...ah.keys()].filter((k) => !bh.has(k));
      const changed = [...bh.keys()].filter((k) => ah.has(k) && ah.get(k)!.hash !== bh.get(k)!.hash).length;
      // One upstream instance in place of another (a sweep's neighbour): name both.
      const swapped = added.length === 1 && removed.length === 1 && changed === 0;
      const id = (e: { stage: string; matrix: Readonly<Record<string, unknown>> }) => instanceId(e.stage, e.matrix as Combo);
      out.push(
        swapped
          ? `input ${n}: ${id(ah.get(removed[0]!)!)} → ${id(bh.get(added[0]!)!)}`
          : `input ${n}: ${[added.length && `${added.length} added`, removed.length && `${removed.length} removed`, changed && `${changed} changed`].filter(Boolean).join(', ') || 'reordered'}`,
      );
    } else {
      const [from, to] = [sources?.before(n), sources?.after(n)];
      out.push(`input ${n} changed (${from !== undefined && to !== undefined && from !== to ? `${from} → ${to}: ` : ''}${short(a)} → ${short(b)})`);
    }
  }
  return out;
}

const show = (v: unknown) => (v === undefined ? 'none' : JSON.stringify(v));
const short = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10) : JSON.stringify(v));
