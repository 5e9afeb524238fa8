// `rethink dag [pipeline] --format ascii|mermaid|dot|json`
import type { Command } from '../io.js';
import { jsonDocument } from '../../util/json-document.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace } from '../workspace.js';
import { UserError } from '../../util/user-error.js';
import type { Plan } from '../../plan/plan.js';
import type { StageId } from '../../util/brand.js';
import { resourcesOf } from '../../plan/resources.js';
import { resourcesText } from '../render/resources.js';

const FORMATS = ['ascii', 'mermaid', 'dot', 'json'] as const;
type Format = (typeof FORMATS)[number];

export const dag: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('dag', argv, {
    format: { type: 'string', short: 'f', value: 'FORMAT', help: 'ascii (default), mermaid, dot or json' },
    set: pipelineFlags.set,
  });
  const format = (values.format ?? 'ascii') as Format;
  if (!FORMATS.includes(format)) throw UserError.of('E_BAD_FLAG', `--format "${values.format}" is not supported`, `formats: ${FORMATS.join(', ')}`);
  const ws = await loadWorkspace(io, positionals[0], values.set ?? []);
  io.stdout(render(ws.plan, format));
  return 0;
};

export function render(plan: Plan, format: Format): string {
  const edges = plan.order.flatMap((id) => (plan.graph.outNeighbors(id) as StageId[]).map((to) => [id, to] as const));
  switch (format) {
    case 'json':
      return jsonDocument(
        {
          nodes: plan.order.map((id) => {
            const i = plan.instances.get(id)!;
            return {
              id,
              stage: i.stage,
              plugin: i.plugin.name,
              matrix: i.matrix,
              inputs: Object.fromEntries(i.inputs.map((b) => [b.name, b.sources])),
              resources: i.resources ?? resourcesOf(i.plugin),
              placement: i.placement ?? 'any',
            };
          }),
          edges: edges.map(([from, to]) => ({ from, to })),
        },
      );
    case 'dot':
      return `digraph "${plan.name}" {\n  rankdir=LR;\n${plan.order.map((id) => `  ${JSON.stringify(id)} [label=${JSON.stringify(`${id}\n${plan.instances.get(id)!.plugin.name}`)}];`).join('\n')}\n${edges.map(([a, b]) => `  ${JSON.stringify(a)} -> ${JSON.stringify(b)};`).join('\n')}\n}\n`;
    case 'mermaid': {
      const n = new Map(plan.order.map((id, i) => [id, `n${i}`]));
      return `flowchart LR\n${plan.order.map((id) => `  ${n.get(id)}["${id.replaceAll('"', '#quot;')}"]`).join('\n')}\n${edges.map(([a, b]) => `  ${n.get(a)} --> ${n.get(b)}`).join('\n')}\n`;
    }
    case 'ascii': {
      const width = Math.min(50, Math.max(...plan.order.map((id) => id.length)));
      return `${plan.order
        .map((id) => {
          const inst = plan.instances.get(id)!;
          const ins = inst.inputs.flatMap((b) => (b.many && b.sources.length > 3 ? [`${b.name}: ${fanIn(plan, b.sources)}`] : b.sources.map((s) => `${s.id}.${s.output}`)));
          const needs = resourcesText(inst.resources ?? resourcesOf(inst.plugin), inst.placement, true);
          return `${id.padEnd(width)}  (${inst.plugin.name}${needs ? `; ${needs}` : ''})${ins.length ? `  ← ${ins.join(', ')}` : ''}`;
        })
        .join('\n')}\n`;
    }
  }
}

/** A big fan-in, counted per upstream stage: `14 × train.metrics + 5 × random_labels.metrics`. */
function fanIn(plan: Plan, sources: readonly { readonly id: StageId; readonly output: string }[]): string {
  const counts = new Map<string, number>();
  for (const s of sources) {
    const k = `${plan.instances.get(s.id)!.stage}.${s.output}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n} × ${k}`).join(' + ');
}
