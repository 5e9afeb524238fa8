// Makes a stock tf.layers Dense (ReLU or linear) or Conv2D (ReLU) layer with bias run its training
// forward as one fused kernel (src/ops/bias_relu.ts). The layer object, class name ('Dense', 'Conv2D':
// weight decay selects by it), weight names and serialization stay tfjs's own; only `call` is
// wrapped, and only when training with the shapes the fused path handles.
import { conv2dBiasRelu, denseBias, type FusedOptions } from '../ops/bias_relu.js';
import type * as tfTypes from '@tensorflow/tfjs';
import type { Tf } from './types.js';

interface FusableLayer {
  call(inputs: tfTypes.Tensor | tfTypes.Tensor[], kwargs: tfTypes.serialization.ConfigDict): tfTypes.Tensor | tfTypes.Tensor[];
  getClassName(): string;
  readonly kernel?: tfTypes.LayerVariable | null;
  readonly bias?: tfTypes.LayerVariable | null;
  readonly activation?: { getClassName(): string } | null;
  readonly strides?: number[];
  readonly padding?: string;
  readonly dilationRate?: number | number[];
  readonly dataFormat?: string;
}

function fusable(l: FusableLayer, x: tfTypes.Tensor): boolean {
  const act = l.activation?.getClassName();
  if (l.kernel == null || l.bias == null || x.dtype !== 'float32') return false;
  // A linear dense layer (the logits) gains on WebGPU, where its backward pass is one or two dispatches.
  if (l.getClassName() === 'Dense') return x.rank === 2 && (act === 'relu' || act === 'linear');
  if (act !== 'relu') return false;
  const d = l.dilationRate;
  const dilated = Array.isArray(d) ? d.some((v) => v !== 1) : d !== undefined && d !== 1;
  return l.getClassName() === 'Conv2D' && x.rank === 4 && !dilated && l.dataFormat === 'channelsLast' && (l.padding === 'same' || l.padding === 'valid');
}

/**
 * Wraps `layer.call` in place and returns the layer. `inputGrad: false` for a layer fed by the model's
 * input (directly or through flatten): its input gradient is never needed, and a custom gradient
 * would compute it anyway.
 */
export function fuseBiasReluInTraining<L extends tfTypes.layers.Layer>(tf: Tf, layer: L, opts: FusedOptions = { inputGrad: true }): L {
  const l = layer as unknown as FusableLayer;
  const stock = l.call.bind(layer);
  l.call = (inputs, kwargs) => {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs['training'] !== true || !fusable(l, x)) return stock(inputs, kwargs);
    const w = l.kernel!.read();
    const b = l.bias!.read();
    if (l.getClassName() === 'Dense') return denseBias(tf, x, w, b, l.activation?.getClassName() === 'relu', opts);
    const [sh, sw] = l.strides as [number, number];
    return conv2dBiasRelu(tf, x, w, b, { strides: [sh, sw], pad: l.padding as 'same' | 'valid' }, opts);
  };
  return layer;
}
