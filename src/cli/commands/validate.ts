// `rethink validate [pipeline]`: parse, schema-check, expand and bind without running anything.
import type { Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { loadWorkspace } from '../workspace.js';

export const validate: Command = async (argv, io) => {
  const { values, positionals } = parseFlags('validate', argv, { set: pipelineFlags.set });
  const ws = await loadWorkspace(io, positionals[0], values.set ?? []);
  const stages = new Set([...ws.plan.instances.values()].map((i) => i.stage)).size;
  io.stdout(`${ws.file.source.file}: ok (${stages} stages, ${ws.plan.order.length} instances, ${ws.plan.graph.size} edges)\n`);
  return 0;
};
