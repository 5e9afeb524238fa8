// `rethink validate [pipeline]`: parse, schema-check, expand and bind without running any stage.
// A plugin named by path is imported to read its params schema and inputs, which runs the module's
// top-level code (there is no sound way to read a JS module's exports without evaluating it); the
// help and the README say so.
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
