// `rethink models [--input HxWxC] [--classes N] [--json]`: model definitions with their parameter counts.
import type { Command } from '../io.js';
import { parseFlags, pipelineFlags } from '../args.js';
import { UserError } from '../../util/user-error.js';

export const models: Command = async (argv, io) => {
  const { values } = parseFlags('models', argv, { input: { type: 'string', value: 'HxWxC', help: 'the input shape to count parameters for (default 28x28x3)' },
    classes: { type: 'string', value: 'N', help: 'the number of classes to count parameters for (default 10; ImageNet: 1000)' },
    json: pipelineFlags.json,
  });
  const spec = values.input ?? '28x28x3';
  const dims = spec.split('x').map(Number);
  if (dims.length !== 3 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
    throw UserError.of('E_BAD_FLAG', `--input "${spec}" is not HxWxC`, 'e.g. --input 28x28x3 or --input 32x32x3');
  }
  const numClasses = Number(values.classes ?? '10');
  if (!Number.isInteger(numClasses) || numClasses < 1) throw UserError.of('E_BAD_FLAG', `--classes "${values.classes}" is not a positive integer`, 'e.g. --classes 1000');
  const { modelsCommand } = await import('../../models/cli.js');
  return modelsCommand({ input: dims as [number, number, number], numClasses, json: values.json === true }, (line) => io.stdout(line.endsWith('\n') ? line : `${line}\n`));
};
