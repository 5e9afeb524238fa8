// A trained model as an ONNX graph (opset 17) that ONNX Runtime, or any ONNX consumer, runs. The input
// is `image`, NHWC float32 [N, H, W, C] exactly as rethink feeds the model (preprocessed: see the model
// card); the output is `logits` [N, classes] (apply a softmax for probabilities). Conv nets run in NCHW
// inside the graph: one Transpose after the input, one before Flatten (so the flattened order is
// tfjs's channels-last order and the dense weights need no permutation).
// Written with the hand-rolled protobuf encoder the native backend already uses (no dependency).
import type * as tfTypes from '@tensorflow/tfjs';
import { encodeModel, OnnxType, type OnnxAttr, type OnnxInt64Initializer, type OnnxNode } from '../../util/onnx-proto.js';

const int = (value: number): OnnxAttr => ({ kind: 'int', value });
const ints = (value: readonly number[]): OnnxAttr => ({ kind: 'ints', value });
const float = (value: number): OnnxAttr => ({ kind: 'float', value });

/** What a layer of the model looks like to the exporter. */
interface LayerView {
  getClassName(): string;
  readonly name: string;
  readonly inboundNodes: readonly { readonly inboundLayers: readonly { readonly name: string }[] }[];
  getConfig(): Record<string, unknown>;
  readonly weights: readonly tfTypes.LayerVariable[];
}

export class UnsupportedLayerError extends Error {}

/** The ONNX bytes of `model` (an inference graph: dropout is the identity, batch norm uses moving statistics). */
export async function onnxModel(model: tfTypes.LayersModel): Promise<Uint8Array> {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInt64Initializer[] = [];
  /** Each layer's output: its ONNX value name and whether it is in NCHW layout. */
  const out = new Map<string, { value: string; nchw: boolean; rank: number }>();
  /** A layer's value name: prefixed, so no layer name can collide with `image`, `logits` or a weight. */
  const v = (layer: string): string => `layer/${layer}`;
  const input = model.inputs[0]!;
  const [, h, w, c] = input.shape as [null, number, number, number];
  const constant = async (name: string, variable: tfTypes.LayerVariable, transform?: (t: tfTypes.Tensor) => tfTypes.Tensor): Promise<string> => {
    const value = variable.read();
    const t = transform === undefined ? value : transform(value);
    initializers.push({ name, dims: t.shape, values: Array.from((await t.data()) as Float32Array), type: OnnxType.float });
    if (t !== value) t.dispose();
    return name;
  };
  const ones = (name: string, n: number): string => {
    initializers.push({ name, dims: [n], values: new Array<number>(n).fill(1), type: OnnxType.float });
    return name;
  };
  /** The value of `layer`'s input in the layout asked for. */
  const operand = (layer: LayerView, index: number, nchw: boolean | 'any'): string => {
    const from = layer.inboundNodes[0]?.inboundLayers[index]?.name;
    const src = from === undefined ? undefined : out.get(from);
    if (src === undefined) throw new Error(`${layer.name}: input ${index} is not computed yet`);
    if (nchw === 'any' || src.rank !== 4 || src.nchw === nchw) return src.value;
    const value = `${src.value}__${nchw ? 'nchw' : 'nhwc'}`;
    if (!nodes.some((n) => n.outputs[0] === value)) nodes.push({ op: 'Transpose', inputs: [src.value], outputs: [value], attrs: { perm: ints(nchw ? [0, 3, 1, 2] : [0, 2, 3, 1]) } });
    return value;
  };
  const layout = (layer: LayerView, index = 0): { nchw: boolean; rank: number } => {
    const src = out.get(layer.inboundNodes[0]!.inboundLayers[index]!.name)!;
    return { nchw: src.nchw, rank: src.rank };
  };
  const activation = (layer: LayerView, value: string): string => {
    const act = layer.getConfig()['activation'];
    if (act === undefined || act === 'linear') return value;
    if (act !== 'relu') throw new UnsupportedLayerError(`${layer.name}: activation ${String(act)} has no ONNX export`);
    nodes.push({ op: 'Relu', inputs: [value], outputs: [`${value}_relu`] });
    return `${value}_relu`;
  };

  for (const l of model.layers as unknown as LayerView[]) {
    const cls = l.getClassName();
    const cfg = l.getConfig();
    const name = l.name;
    switch (cls) {
      case 'InputLayer':
        out.set(name, { value: 'image', nchw: false, rank: 4 });
        break;
      case 'Conv2D': {
        if (cfg['padding'] !== 'same' && cfg['padding'] !== 'valid') throw new UnsupportedLayerError(`${name}: padding ${String(cfg['padding'])}`);
        const [kernel, bias] = [l.weights.find((v) => v.originalName.endsWith('/kernel'))!, l.weights.find((v) => v.originalName.endsWith('/bias'))];
        // tfjs HWIO → ONNX OIHW.
        const wName = await constant(`${name}/kernel`, kernel, (t) => t.transpose([3, 2, 0, 1]));
        const inputs = [operand(l, 0, true), wName, ...(bias === undefined ? [] : [await constant(`${name}/bias`, bias)])];
        const [kh, kw] = kernel.shape as [number, number, number, number];
        const strides = cfg['strides'] as number[];
        nodes.push({
          op: 'Conv',
          inputs,
          outputs: [v(name)],
          attrs: { kernel_shape: ints([kh, kw]), strides: ints(strides), auto_pad: { kind: 'string', value: cfg['padding'] === 'same' ? 'SAME_UPPER' : 'VALID' } },
        });
        out.set(name, { value: activation(l, v(name)), nchw: true, rank: 4 });
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const pool = cfg['poolSize'] as number[];
        const strides = (cfg['strides'] as number[] | null) ?? pool;
        nodes.push({
          op: cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool',
          inputs: [operand(l, 0, true)],
          outputs: [v(name)],
          attrs: { kernel_shape: ints(pool), strides: ints(strides), auto_pad: { kind: 'string', value: cfg['padding'] === 'same' ? 'SAME_UPPER' : 'VALID' } },
        });
        out.set(name, { value: v(name), nchw: true, rank: 4 });
        break;
      }
      case 'RethinkLRN': {
        // TF: x / (bias + alpha·Σ_{window 2r+1} x²)^beta; ONNX divides alpha by the window size.
        const size = 2 * (cfg['depthRadius'] as number) + 1;
        nodes.push({
          op: 'LRN',
          inputs: [operand(l, 0, true)],
          outputs: [v(name)],
          attrs: { size: int(size), alpha: float((cfg['alpha'] as number) * size), beta: float(cfg['beta'] as number), bias: float(cfg['bias'] as number) },
        });
        out.set(name, { value: v(name), nchw: true, rank: 4 });
        break;
      }
      case 'RethinkBetaBatchNorm':
      case 'BatchNormalization': {
        const find = (suffix: string) => l.weights.find((v) => v.originalName.endsWith(`/${suffix}`));
        const beta = find('beta')!;
        const gamma = find('gamma');
        const channels = beta.shape[0]!;
        const { nchw, rank } = layout(l);
        const x = operand(l, 0, rank === 4 ? true : 'any');
        nodes.push({
          op: 'BatchNormalization',
          inputs: [x, gamma === undefined ? ones(`${name}/scale`, channels) : await constant(`${name}/gamma`, gamma), await constant(`${name}/beta`, beta), await constant(`${name}/moving_mean`, find('moving_mean')!), await constant(`${name}/moving_variance`, find('moving_variance')!)],
          outputs: [v(name)],
          attrs: { epsilon: float(cfg['epsilon'] as number) },
        });
        let value = v(name);
        if (cfg['relu'] === true) {
          nodes.push({ op: 'Relu', inputs: [value], outputs: [`${value}_relu`] });
          value = `${value}_relu`;
        }
        out.set(name, { value, nchw: rank === 4 ? true : nchw, rank });
        break;
      }
      case 'ReLU':
      case 'Activation': {
        const { nchw, rank } = layout(l);
        if (cls === 'Activation' && cfg['activation'] !== 'relu') throw new UnsupportedLayerError(`${name}: activation ${String(cfg['activation'])}`);
        nodes.push({ op: 'Relu', inputs: [operand(l, 0, 'any')], outputs: [v(name)] });
        out.set(name, { value: v(name), nchw, rank });
        break;
      }
      case 'Concatenate': {
        const count = l.inboundNodes[0]!.inboundLayers.length;
        const axis = cfg['axis'] as number;
        if (axis !== -1 && axis !== 3) throw new UnsupportedLayerError(`${name}: concatenation on axis ${axis}`);
        const inputs = Array.from({ length: count }, (_, i) => operand(l, i, true));
        nodes.push({ op: 'Concat', inputs, outputs: [v(name)], attrs: { axis: int(1) } });
        out.set(name, { value: v(name), nchw: true, rank: 4 });
        break;
      }
      case 'GlobalAveragePooling2D':
        nodes.push({ op: 'GlobalAveragePool', inputs: [operand(l, 0, true)], outputs: [`${v(name)}_4d`] });
        nodes.push({ op: 'Flatten', inputs: [`${v(name)}_4d`], outputs: [v(name)], attrs: { axis: int(1) } });
        out.set(name, { value: v(name), nchw: false, rank: 2 });
        break;
      case 'Flatten':
        nodes.push({ op: 'Flatten', inputs: [operand(l, 0, false)], outputs: [v(name)], attrs: { axis: int(1) } });
        out.set(name, { value: v(name), nchw: false, rank: 2 });
        break;
      case 'Dense': {
        const kernel = l.weights.find((v) => v.originalName.endsWith('/kernel'))!;
        const bias = l.weights.find((v) => v.originalName.endsWith('/bias'));
        if (layout(l).rank !== 2) throw new UnsupportedLayerError(`${name}: a Dense layer on a rank-${layout(l).rank} input`);
        const inputs = [operand(l, 0, 'any'), await constant(`${name}/kernel`, kernel), ...(bias === undefined ? [] : [await constant(`${name}/bias`, bias)])];
        nodes.push({ op: 'Gemm', inputs, outputs: [v(name)] });
        out.set(name, { value: activation(l, v(name)), nchw: false, rank: 2 });
        break;
      }
      case 'Dropout':
      case 'RethinkSeededDropout': {
        const src = layout(l);
        out.set(name, { value: operand(l, 0, 'any'), ...src });
        break;
      }
      default:
        throw new UnsupportedLayerError(`layer ${name} (${cls}) has no ONNX export`);
    }
  }
  const last = model.outputs[0]!;
  const final = out.get(model.layers.at(-1)!.name)!;
  const numClasses = last.shape[last.shape.length - 1] as number;
  nodes.push({ op: 'Identity', inputs: [final.value], outputs: ['logits'] });
  return encodeModel({
    nodes,
    initializers,
    // −1: a symbolic batch dimension (any N).
    inputs: [{ name: 'image', type: OnnxType.float, shape: [-1, h, w, c] }],
    outputs: [{ name: 'logits', type: OnnxType.float, shape: [-1, numClasses] }],
  });
}
