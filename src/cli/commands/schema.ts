// `rethink schema`: the pipeline JSON Schema for editors (the same as schema/pipeline.schema.json):
// the file's structure, and each built-in plugin's params under `with:`.
import type { Command } from '../io.js';
import { parseFlags } from '../args.js';
import { editorSchema } from '../../config/editor-schema.js';
import type { JsonSchema, Plugin } from '../../plugin/types.js';
import { builtinPlugins } from '../../../stages/index.js';

export const schema: Command = async (argv, io) => {
  parseFlags('schema', argv, {});
  io.stdout(`${JSON.stringify(await builtinEditorSchema(), null, 2)}\n`);
  return 0;
};

/** The editor schema with every built-in plugin's params, by the name `uses:` gives it. */
export async function builtinEditorSchema(): Promise<JsonSchema> {
  const params = await Promise.all(Object.entries(builtinPlugins).map(async ([uses, load]) => [uses, editable(await load())] as const));
  return editorSchema(Object.fromEntries(params));
}

/** What a user writes under `with:`: a stage-ports plugin's `outputs` param comes from the stage's `outputs:`. */
function editable(plugin: Plugin<never>): JsonSchema {
  if (plugin.forStage === undefined) return plugin.params;
  const { outputs: _filledByThePlanner, ...properties } = (plugin.params.properties ?? {}) as Record<string, unknown>;
  return { ...plugin.params, properties };
}
