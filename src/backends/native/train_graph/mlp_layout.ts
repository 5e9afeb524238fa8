// Recognises a model the whole-step MLP graph can train exactly like the generic tfjs step, and pairs
// each of its variables with its optimizer slot and velocity.
// Accepted: an optional InputLayer, one Flatten, then Dense layers in a chain, every one with a bias,
// ReLU on all but the last, the last linear (its outputs are the logits), float32 throughout, each
// layer fed by the one before. Anything else (Dropout or SeededDropout, Conv2D, BatchNormalization,
// other activations, a softmax on the logits, a layer without bias, branches, weights without an
// optimizer slot, slots the layers do not own, a decayed bias) is not recognised, and the caller keeps
// the generic step.
// Layers are recognised by class name and activation, never by their names.

import type * as tfTypes from '@tensorflow/tfjs';
import type { TrainStepSpec } from '../../session.js';

/** One dense layer's variables with their velocities and kernel decay. */
export interface DenseSlot {
  readonly kernel: tfTypes.Variable;
  readonly bias: tfTypes.Variable;
  readonly kernelVelocity: tfTypes.Variable;
  readonly biasVelocity: tfTypes.Variable;
  readonly kernelDecay: number;
}

export interface MlpLayout {
  /** [input features, hidden widths…, classes]. */
  readonly dims: readonly number[];
  readonly layers: readonly DenseSlot[];
}

interface DenseLike {
  readonly kernel?: tfTypes.LayerVariable | null;
  readonly bias?: tfTypes.LayerVariable | null;
  readonly activation?: { getClassName(): string } | null;
}

interface NodeLike {
  readonly inboundLayers?: readonly tfTypes.layers.Layer[];
}

/** The layer feeding `layer`, when it has exactly one inbound node with exactly one input. */
function soleInbound(layer: tfTypes.layers.Layer): tfTypes.layers.Layer | undefined {
  const nodes = (layer as unknown as { inboundNodes?: readonly NodeLike[] }).inboundNodes ?? [];
  if (nodes.length !== 1) return undefined;
  const from = nodes[0]!.inboundLayers ?? [];
  return from.length === 1 ? from[0] : undefined;
}

/** The MLP layout of `spec.model`, or undefined when the model is anything else. */
export function mlpLayout(spec: TrainStepSpec): MlpLayout | undefined {
  const { model } = spec;
  if (model.inputs.length !== 1 || model.outputs.length !== 1) return undefined;
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const [flatten, ...dense] = layers;
  if (flatten === undefined || flatten.getClassName() !== 'Flatten' || dense.length === 0) return undefined;
  const slotOf = new Map(spec.slots.map((s, i) => [s.variable, i] as const));
  const used = new Set<number>();
  const dims = [spec.imageShape[0] * spec.imageShape[1] * spec.imageShape[2]];
  const out: DenseSlot[] = [];
  let prev: tfTypes.layers.Layer = flatten;
  for (const [i, layer] of dense.entries()) {
    if (layer.getClassName() !== 'Dense' || soleInbound(layer) !== prev) return undefined;
    const d = layer as unknown as DenseLike;
    const act = d.activation?.getClassName();
    if (act !== (i === dense.length - 1 ? 'linear' : 'relu')) return undefined;
    if (d.kernel == null || d.bias == null || layer.trainableWeights.length !== 2) return undefined;
    const kernel = d.kernel.read() as tfTypes.Variable;
    const bias = d.bias.read() as tfTypes.Variable;
    const [rows, cols] = kernel.shape;
    if (kernel.dtype !== 'float32' || kernel.rank !== 2 || rows !== dims[i] || bias.shape[0] !== cols) return undefined;
    const k = slotOf.get(kernel);
    const b = slotOf.get(bias);
    if (k === undefined || b === undefined || spec.slots[b]!.decay !== 0) return undefined;
    used.add(k).add(b);
    out.push({
      kernel,
      bias,
      kernelVelocity: spec.velocities[k]!,
      biasVelocity: spec.velocities[b]!,
      kernelDecay: spec.slots[k]!.decay,
    });
    dims.push(cols!);
    prev = layer;
  }
  if (soleInbound(flatten) !== undefined && soleInbound(flatten)?.getClassName() !== 'InputLayer') return undefined;
  if (dims[dims.length - 1] !== spec.numClasses || used.size !== spec.slots.length || spec.velocities.length !== spec.slots.length) return undefined;
  return { dims, layers: out };
}
