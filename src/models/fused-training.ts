// Makes a stock tf.layers Dense (ReLU or linear) or Conv2D (ReLU) layer with bias run its training
// forward as one fused kernel (src/ops/bias_relu.ts), and a linear Conv2D without bias (a conv feeding
// a batch norm) skip its input gradient where nobody needs it. The layer object, class name ('Dense', 'Conv2D':
// weight decay selects by it), weight names and serialization stay tfjs's own; only `call` is
// wrapped, and only when training with the shapes the fused path handles.
import { conv2dBiasRelu, conv2dLinear, denseBias, type FusedOptions } from '../ops/bias_relu.js';
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

/** Which fused op runs the layer's training forward, if any. */
function fusable(l: FusableLayer, x: tfTypes.Tensor): 'dense' | 'conv-bias-relu' | 'conv-linear' | null {
  const act = l.activation?.getClassName();
  if (l.kernel == null || x.dtype !== 'float32') return null;
  // A linear dense layer (the logits) gains on WebGPU, where its backward pass is one or two dispatches.
  if (l.getClassName() === 'Dense') return l.bias != null && x.rank === 2 && (act === 'relu' || act === 'linear') ? 'dense' : null;
  const d = l.dilationRate;
  const dilated = Array.isArray(d) ? d.some((v) => v !== 1) : d !== undefined && d !== 1;
  const conv = l.getClassName() === 'Conv2D' && x.rank === 4 && !dilated && l.dataFormat === 'channelsLast' && (l.padding === 'same' || l.padding === 'valid');
  if (!conv) return null;
  if (l.bias != null) return act === 'relu' ? 'conv-bias-relu' : null;
  return act === 'linear' ? 'conv-linear' : null;
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
    const kind = kwargs['training'] === true ? fusable(l, x) : null;
    if (kind === null) return stock(inputs, kwargs);
    const w = l.kernel!.read();
    if (kind === 'dense') return denseBias(tf, x, w, l.bias!.read(), l.activation?.getClassName() === 'relu', opts);
    const [sh, sw] = l.strides as [number, number];
    const geometry = { strides: [sh, sw], pad: l.padding as 'same' | 'valid' } as const;
    if (kind === 'conv-linear') return conv2dLinear(tf, x, w, geometry, opts);
    return conv2dBiasRelu(tf, x, w, l.bias!.read(), geometry, opts);
  };
  return layer;
}
