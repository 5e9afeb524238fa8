// `train`: one of the paper's models trained on a dataset artifact with the reusable loop
// (src/train). Light descriptor: tfjs, the backend and the loop load inside `run`.
import { definePlugin } from '../../src/plugin/types.js';
import { trainParamsSchema, type TrainParams } from './params.js';

export const trainPlugin = definePlugin<TrainParams>({
  name: 'train',
  version: '2',
  description: "Trains one of the paper's models (SGD + momentum, per-epoch lr decay) on a dataset artifact",
  params: trainParamsSchema,
  inputs: {
    data: { kind: 'tensors', description: 'a dataset: x_train uint8 [N,H,W,C], y_train int32 [N], x_test, y_test' },
  },
  outputs: {
    model: { kind: 'tensors', description: 'weights by layer-scoped name; metadata: model, input shape, preprocessing, hyperparameters' },
    metrics: { kind: 'json', description: 'per-epoch history, final train/test loss and accuracy, backend, seconds' },
  },
  cores: 'all',
  // Trains on a GPU where there is one (webgpu, or tfjs-node-gpu), on the CPU elsewhere.
  gpu: 'preferred',
  async run(ctx) {
    const { runTrain } = await import('./run.js');
    await runTrain(ctx);
  },
});
