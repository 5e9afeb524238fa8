// `rethink schema`: the pipeline JSON Schema (the same as schema/pipeline.schema.json).
import type { Command } from '../io.js';
import { parseFlags } from '../args.js';
import { pipelineSchema } from '../../config/pipeline-schema.js';

export const schema: Command = async (argv, io) => {
  parseFlags('schema', argv, {});
  io.stdout(`${JSON.stringify(pipelineSchema, null, 2)}\n`);
  return 0;
};
