// `--only` patterns: an instance id, a stage name (all its instances), or a glob where `*` and `?`
// are wildcards and brackets are literal (ids contain them: `train[p=*]`).
import type { StageId } from '../util/brand.js';
import { UserError } from '../util/user-error.js';
import type { Plan } from './plan.js';
import { upstreamIds } from './graph.js';

export function selectInstances(plan: Plan, patterns: readonly string[], flag = '--only'): Set<StageId> {
  const out = new Set<StageId>();
  for (const pattern of patterns) {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
    const hits = plan.order.filter((id) => id === pattern || plan.instances.get(id)!.stage === pattern || re.test(id));
    if (hits.length === 0) {
      const stages = [...new Set(plan.order.map((id) => plan.instances.get(id)!.stage))];
      throw UserError.of('E_NO_MATCH', `${flag} "${pattern}" matches no stage`, `stages: ${stages.join(', ')}; ids look like ${plan.order[plan.order.length - 1]}`);
    }
    for (const id of hits) out.add(id);
  }
  return out;
}

/** The given instances plus everything upstream of them. */
export function withUpstream(plan: Plan, ids: Iterable<StageId>): Set<StageId> {
  const out = new Set<StageId>();
  const stack = [...ids];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    // One by one: spreading a 100,000-instance fan-in into push() overflows the call stack.
    for (const up of upstreamIds(plan.instances.get(id)!)) stack.push(up);
  }
  return out;
}
