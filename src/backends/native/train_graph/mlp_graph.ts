// One MLP training step as one ONNX graph: forward (Gemm + Relu per hidden layer, linear logits),
// softmax cross-entropy's gradient, backward as explicit Gemm / ReLU-grad / ReduceSum nodes (no input
// gradient for the first layer), and the momentum-SGD update of src/train/sgd.ts as graph nodes:
//   v ← μv + (g + λw);  w ← w − lr·v.
// The weight gradient's Gemm takes the old velocity as its C input with beta = μ, so it writes μv + g
// without a separate Mul and Add (ORT still copies C into the output first: measured 2.9 vs 2.4 ms for
// the 2352×512 gradient without C, 1 thread, but a Mul and an Add over it cost 1 ms).
// Kernels stay in tfjs's [in, out] layout: holding them [out, in] (PyTorch's) sped up the first
// forward Gemm by 8–10% alone, but made MLP 3x512's whole step slower (scripts/bench-mlp-step.mjs).
// Inputs and outputs are all float32 (the runtime wrapper feeds only float32): the labels come in as
// one-hot rows already divided by the batch, and the step's loss and accuracy are read on the host
// from the `logp` and `logits` outputs ([B, classes], a few microseconds of JavaScript).

import type { OnnxGraph, OnnxInt64Initializer, OnnxNode, OnnxValueInfo } from '../../../util/onnx-proto.js';
import { OnnxType } from '../../../util/onnx-proto.js';

/** The geometry and constants of one compiled step. */
export interface MlpStepGraphSpec {
  /** Rows per run (the batch this session serves; a short last batch gets its own session). */
  readonly batch: number;
  /** Layer widths: [input features, hidden…, classes]; dense layer i maps dims[i] → dims[i + 1]. */
  readonly dims: readonly number[];
  /** L2 coefficient of each layer's kernel (biases are never decayed, as src/train/decay.ts decides). */
  readonly kernelDecay: readonly number[];
  /** Momentum μ. */
  readonly momentum: number;
}

/** Graph value names the host binds, so the graph and its caller cannot disagree. */
export const mlpNames = {
  x: 'x',
  /** One-hot labels divided by the batch size, [B, classes]. */
  target: 'target',
  /** Learning rate, a scalar input so a schedule needs no new session. */
  lr: 'lr',
  logits: 'logits',
  logp: 'logp',
  kernel: (i: number) => `w${i}`,
  bias: (i: number) => `b${i}`,
  kernelVelocity: (i: number) => `vw${i}`,
  biasVelocity: (i: number) => `vb${i}`,
  /** The same state after the step (written into the other half of the double buffer). */
  next: (name: string) => `${name}_next`,
} as const;

const f = OnnxType.float;
const int = (value: number) => ({ kind: 'int', value }) as const;
const float = (value: number) => ({ kind: 'float', value }) as const;

/** The per-variable state names of layer i in a fixed order: kernel, bias, their velocities. */
export function layerStateNames(i: number): readonly [string, string, string, string] {
  return [mlpNames.kernel(i), mlpNames.bias(i), mlpNames.kernelVelocity(i), mlpNames.biasVelocity(i)];
}

export function mlpStepGraph(s: MlpStepGraphSpec): OnnxGraph {
  const layers = s.dims.length - 1;
  if (layers < 1 || s.kernelDecay.length !== layers) throw new RangeError(`mlpStepGraph: ${layers} layers, ${s.kernelDecay.length} decays`);
  const B = s.batch;
  const classes = s.dims[layers]!;
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInt64Initializer[] = [
    { name: 'axis0', dims: [1], values: [0] },
    { name: 'mu', dims: [], values: [s.momentum], type: f },
    { name: 'inv_batch', dims: [], values: [1 / B], type: f },
  ];
  const n = mlpNames;

  // Forward: h_i = relu(h_{i-1}·W_i + b_i) for hidden layers, logits for the last.
  const acts: string[] = [n.x];
  for (let i = 0; i < layers; i++) {
    const last = i === layers - 1;
    const z = last ? n.logits : `z${i}`;
    nodes.push({ op: 'Gemm', inputs: [acts[i]!, n.kernel(i), n.bias(i)], outputs: [z] });
    if (!last) {
      nodes.push({ op: 'Relu', inputs: [z], outputs: [`h${i}`] });
      acts.push(`h${i}`);
    }
  }

  // Softmax cross-entropy: d loss / d logits = (softmax − onehot) / B = softmax/B − target.
  nodes.push({ op: 'LogSoftmax', inputs: [n.logits], outputs: [n.logp], attrs: { axis: int(1) } });
  nodes.push({ op: 'Exp', inputs: [n.logp], outputs: ['p'] });
  nodes.push({ op: 'Mul', inputs: ['p', 'inv_batch'], outputs: ['p_b'] });
  nodes.push({ op: 'Sub', inputs: ['p_b', n.target], outputs: [`dz${layers - 1}`] });

  // Backward and update, last layer first; each layer's input gradient uses its old kernel.
  for (let i = layers - 1; i >= 0; i--) {
    const dz = `dz${i}`;
    const [w, b, vw, vb] = layerStateNames(i);
    // μ·v + g in one Gemm: g = h_{i-1}ᵀ·dz.
    const vwNext = n.next(vw);
    const decay = s.kernelDecay[i]!;
    const mg = decay === 0 ? vwNext : `vw${i}_mg`;
    nodes.push({ op: 'Gemm', inputs: [acts[i]!, dz, vw], outputs: [mg], attrs: { transA: int(1), beta: float(s.momentum) } });
    if (decay !== 0) {
      initializers.push({ name: `decay${i}`, dims: [], values: [decay], type: f });
      nodes.push({ op: 'Mul', inputs: [w, `decay${i}`], outputs: [`w${i}_decay`] });
      nodes.push({ op: 'Add', inputs: [mg, `w${i}_decay`], outputs: [vwNext] });
    }
    nodes.push({ op: 'Mul', inputs: [vwNext, n.lr], outputs: [`w${i}_step`] });
    nodes.push({ op: 'Sub', inputs: [w, `w${i}_step`], outputs: [n.next(w)] });
    // Bias: v ← μv + Σ_rows dz;  b ← b − lr·v.
    nodes.push({ op: 'ReduceSum', inputs: [dz, 'axis0'], outputs: [`gb${i}`], attrs: { keepdims: int(0) } });
    nodes.push({ op: 'Mul', inputs: [vb, 'mu'], outputs: [`vb${i}_mu`] });
    nodes.push({ op: 'Add', inputs: [`vb${i}_mu`, `gb${i}`], outputs: [n.next(vb)] });
    nodes.push({ op: 'Mul', inputs: [n.next(vb), n.lr], outputs: [`b${i}_step`] });
    nodes.push({ op: 'Sub', inputs: [b, `b${i}_step`], outputs: [n.next(b)] });
    if (i > 0) {
      // dh = dz·Wᵀ, then the ReLU gradient: h > 0 exactly where the pre-activation was, and
      // Sign(h) ∈ {0, 1} there, so one Mul masks it.
      nodes.push({ op: 'Gemm', inputs: [dz, w], outputs: [`dh${i - 1}`], attrs: { transB: int(1) } });
      nodes.push({ op: 'Sign', inputs: [acts[i]!], outputs: [`mask${i - 1}`] });
      nodes.push({ op: 'Mul', inputs: [`dh${i - 1}`, `mask${i - 1}`], outputs: [`dz${i - 1}`] });
    }
  }

  const inputs: OnnxValueInfo[] = [
    { name: n.x, type: f, shape: [B, s.dims[0]!] },
    { name: n.target, type: f, shape: [B, classes] },
    { name: n.lr, type: f, shape: [] },
  ];
  const outputs: OnnxValueInfo[] = [
    { name: n.logits, type: f, shape: [B, classes] },
    { name: n.logp, type: f, shape: [B, classes] },
  ];
  for (let i = 0; i < layers; i++) {
    const shapes = [[s.dims[i]!, s.dims[i + 1]!], [s.dims[i + 1]!]];
    layerStateNames(i).forEach((name, k) => {
      const shape = shapes[k % 2]!;
      inputs.push({ name, type: f, shape });
      outputs.push({ name: n.next(name), type: f, shape });
    });
  }
  return { nodes, inputs, outputs, initializers };
}

/**
 * Names the host binds on the chunk graph. The Scan's body is the step graph above, with its own
 * names: ONNX forbids a subgraph to reuse a name of the graph around it.
 */
export const mlpChunkNames = {
  /** K batches back to back, [K, B, features]. */
  xs: 'xs',
  /** K batches' targets (one-hot ÷ B), [K, B, classes]. */
  targets: 'targets',
  /** Each step's learning rate, [K]. */
  lrs: 'lrs',
  /** Each step's logits and log-probabilities, [K, B, classes]. */
  logits: 'logits_k',
  logp: 'logp_k',
  /** A state tensor (a mlpNames name) before the chunk's first step, and after its last. */
  state: (name: string) => `${name}_in`,
  final: (name: string) => `${name}_out`,
} as const;

/**
 * K steps in one run: an ONNX Scan whose body is mlpStepGraph, the weights and velocities its
 * loop-carried state, the batches, targets and learning rates scanned along their first axis, each
 * step's logits and log-probabilities stacked as scan outputs. K is symbolic, so one session serves
 * every chunk length. Only the state at the chunk's end leaves the graph: it is ~10 MB for MLP 1x512,
 * written once a run (and copied again where the binding's copy cannot be avoided, ort_runtime.ts).
 */
export function mlpChunkGraph(s: MlpStepGraphSpec): OnnxGraph {
  const step = mlpStepGraph(s);
  const n = mlpNames;
  const c = mlpChunkNames;
  const scanned = new Set<string>([n.x, n.target, n.lr]);
  const stepOutputs = new Set<string>([n.logits, n.logp]);
  // Scan's body takes the state first, then one slice of each scanned input; it returns the next
  // state first, then the per-step outputs.
  const body: OnnxGraph = {
    ...step,
    inputs: [...step.inputs.filter((v) => !scanned.has(v.name)), ...step.inputs.filter((v) => scanned.has(v.name))],
    outputs: [...step.outputs.filter((v) => !stepOutputs.has(v.name)), ...step.outputs.filter((v) => stepOutputs.has(v.name))],
  };
  const state = step.inputs.filter((v) => !scanned.has(v.name));
  const K = -1;
  const B = s.batch;
  const classes = s.dims[s.dims.length - 1]!;
  const scanInputs: OnnxValueInfo[] = [
    { name: c.xs, type: f, shape: [K, B, s.dims[0]!] },
    { name: c.targets, type: f, shape: [K, B, classes] },
    { name: c.lrs, type: f, shape: [K] },
  ];
  const scanOutputs: OnnxValueInfo[] = [
    { name: c.logits, type: f, shape: [K, B, classes] },
    { name: c.logp, type: f, shape: [K, B, classes] },
  ];
  const stateIn = state.map((v) => ({ ...v, name: c.state(v.name) }));
  const stateOut = state.map((v) => ({ ...v, name: c.final(v.name) }));
  const scan: OnnxNode = {
    op: 'Scan',
    inputs: [...stateIn, ...scanInputs].map((v) => v.name),
    outputs: [...stateOut, ...scanOutputs].map((v) => v.name),
    attrs: { body: { kind: 'graph', value: body }, num_scan_inputs: int(scanInputs.length) },
  };
  return { nodes: [scan], inputs: [...stateIn, ...scanInputs], outputs: [...stateOut, ...scanOutputs] };
}
