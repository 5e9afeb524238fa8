// `command`: a stage that runs any program (a Python script, a shell line, a binary) with its inputs
// as read-only files and its stage-declared outputs as paths to write. Light descriptor: the process
// handling loads inside `run`, the key's file hashing inside `fingerprint`.
import { definePlugin, type JsonValue, type OutputSpec, type Plugin } from '../../src/plugin/types.js';
import { commandParamsSchema, type CommandParams } from './params.js';
import { EXTENSIONS } from './ports.js';
import { quoteAfter } from '../../src/util/shell.js';

export const commandPlugin: Plugin<CommandParams> = definePlugin<CommandParams>({
  name: 'command',
  version: '1',
  description: 'Runs a command (python3 x.py, a shell line with shell: bash, a binary); inputs and outputs are files: ${inputs.x}, ${outputs.y}',
  params: commandParamsSchema,
  // Each stage declares its own (see forStage).
  inputs: {},
  outputs: {},
  // The command sees RETHINK_SEED, so the seed is part of its key.
  seeded: true,
  // Values from vars and matrix are quoted into `run` for where they land, so each stays one argument.
  splice: { run: (value: JsonValue, before: string) => quoteAfter(before, typeof value === 'string' ? value : JSON.stringify(value)) },
  forStage({ params, inputs, baseDir }) {
    const outputs: Record<string, OutputSpec> = Object.fromEntries(
      Object.entries(params.outputs ?? {}).map(([name, kind]) => [name, { kind, ...(kind === 'file' ? {} : { extension: EXTENSIONS[kind] }) }]),
    );
    return {
      ...commandPlugin,
      inputs,
      outputs,
      async fingerprint(p) {
        const { commandFingerprint } = await import('./fingerprint.js');
        return commandFingerprint(p, baseDir);
      },
      async run(ctx) {
        const { runCommand } = await import('./run.js');
        await runCommand(ctx, baseDir);
      },
    };
  },
  async run() {
    throw new Error('command: run() needs the stage (the planner calls forStage first)');
  },
});
