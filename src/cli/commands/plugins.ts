// `rethink plugins [--json]`: the built-in stage plugins with their inputs, outputs, params and needs (cores, GPU).
import type { Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { builtinPlugins } from '../../../stages/index.js';
import { resourcesOf } from '../../plan/resources.js';
import { resourcesText } from '../render/resources.js';

export const plugins: Command = async (argv, io) => {
  const { values } = parseFlags('plugins', argv, { json: pipelineFlags.json });
  const all = await Promise.all(Object.values(builtinPlugins).map((load) => load()));
  const rows = all
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => ({
      name: p.name,
      version: p.version,
      description: p.description,
      inputs: Object.keys(p.inputs),
      outputs: Object.keys(p.outputs),
      params: Object.keys((p.params as { properties?: object }).properties ?? {}),
      cores: p.cores ?? 1,
      gpu: p.gpu ?? 'none',
    }));
  if (values.json) io.stdout(`${JSON.stringify(rows, null, 1)}\n`);
  else
    for (const r of rows) {
      io.stdout(`${r.name}@${r.version}  ${r.description}\n`);
      io.stdout(`    inputs: ${r.inputs.join(', ') || '-'}   outputs: ${r.outputs.join(', ')}   params: ${r.params.join(', ') || '-'}\n`);
      io.stdout(`    needs: ${resourcesText(resourcesOf(r))}\n`);
    }
  return 0;
};
