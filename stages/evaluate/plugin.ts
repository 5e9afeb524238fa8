// `evaluate`: a trained model (from `train`) on a dataset's train and test splits, in inference mode
// with the preprocessing it was trained with: loss, accuracy and per-class accuracy.
import { definePlugin } from '../../src/plugin/types.js';

export interface EvaluateParams {
  readonly batch_size: number;
  readonly splits: readonly ('train' | 'test')[];
  readonly backend: string | null;
}

export const evaluatePlugin = definePlugin<EvaluateParams>({
  name: 'evaluate',
  version: '2',
  description: 'Loss, accuracy and per-class accuracy of a trained model on the train and test splits',
  params: {
    type: 'object',
    additionalProperties: false,
    properties: {
      batch_size: { type: 'integer', minimum: 1, default: 500 },
      splits: { type: 'array', items: { enum: ['train', 'test'] }, minItems: 1, uniqueItems: true, default: ['train', 'test'] },
      backend: { type: ['string', 'null'], default: null, description: 'tfjs backend; null: RETHINK_BACKEND or auto' },
    },
  },
  inputs: {
    model: { kind: 'tensors', description: 'a `train` stage model output' },
    data: { kind: 'tensors', description: 'a dataset: x_train, y_train, x_test, y_test' },
  },
  outputs: {
    metrics: { kind: 'json', description: '{train, test}: {n, loss, acc, per_class_acc}, classes' },
  },
  // Inference is deterministic: the seed does not change the numbers.
  seeded: false,
  // A forward pass over both splits with the tfjs backend a GPU speeds up; the CPU does too.
  gpu: 'preferred',
  async run(ctx) {
    const { runEvaluate } = await import('./run.js');
    await runEvaluate(ctx);
  },
});
