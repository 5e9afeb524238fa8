// Which variables get L2 weight decay: kernels of conv and dense layers, by layer kind; never biases,
// batch-norm offsets or moving statistics.
import type * as tfTypes from '@tensorflow/tfjs';
import type { SgdSlot } from './sgd.js';
import type { WeightDecay } from './types.js';

export function sgdSlots(model: tfTypes.LayersModel, wd: WeightDecay): SgdSlot[] {
  const slots: SgdSlot[] = [];
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    const coefficient = kind === 'Conv2D' ? wd.conv : kind === 'Dense' ? wd.dense : 0;
    for (const w of layer.trainableWeights) {
      const isKernel = w.originalName.endsWith('/kernel');
      slots.push({ variable: w.read() as tfTypes.Variable, decay: isKernel ? coefficient : 0 });
    }
  }
  return slots;
}
