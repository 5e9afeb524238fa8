// `rethink plugins [--json]`: the built-in stage plugins with their inputs, outputs, params and needs (cores, GPU).
import { jsonDocument } from '../../util/json-document.js';
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
      // A stage-ports plugin (`command`) gets its `outputs` param from the stage's `outputs:`.
      params: Object.keys((p.params as { properties?: object }).properties ?? {}).filter((k) => p.forStage === undefined || k !== 'outputs'),
      ...(p.forStage === undefined ? {} : { stagePorts: true as const }),
      cores: p.cores ?? 1,
      gpu: p.gpu ?? 'none',
    }));
  if (values.json) io.stdout(jsonDocument({ plugins: rows }));
  else
    for (const r of rows) {
      io.stdout(`${r.name}@${r.version}  ${r.description}\n`);
      const ports = r.stagePorts ? 'inputs, outputs: declared by each stage (inputs:, outputs:)' : `inputs: ${r.inputs.join(', ') || '-'}   outputs: ${r.outputs.join(', ')}`;
      io.stdout(`    ${ports}   params: ${r.params.join(', ') || '-'}\n`);
      io.stdout(`    needs: ${resourcesText(resourcesOf(r))}\n`);
    }
  return 0;
};
