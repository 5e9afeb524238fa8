// Kernel functions for 'webgpu' that run the convolution products as gathered GEMMs (see
// conv_gemm_specs.ts); each falls back to tfjs's own kernel for cases it does not cover.
import type * as tfType from '@tensorflow/tfjs';
import { convGeometry, geometryKey, type ConvAttrs } from './conv_geometry.js';
import { filterGradSpec, forwardSpec, inputGradSpec, splitCount } from './conv_gemm_specs.js';
import { GemmProgram, SumSplitsProgram, type TensorInfoLike, type WebGpuBackendLike } from './gemm_program.js';
import type { GemmSpec } from './gemm_shader.js';
import { runRecordable, submitBatchSize } from '../record.js';
import { Memo } from '../../../util/memo.js';

type KernelArgs = {
  readonly inputs: Record<string, TensorInfoLike | undefined>;
  readonly backend: WebGpuBackendLike;
  readonly attrs: Record<string, unknown>;
};
export type KernelFn = (args: KernelArgs) => TensorInfoLike;

// Specs are pure functions of the geometry; kernels run every training step with the same few shapes,
// so build each once (the per-call JavaScript cost is what limits small batches on a fast GPU).
const specs = new Memo<string, GemmSpec>();
const memo = (key: string, make: () => GemmSpec): GemmSpec => specs.get(key, make);

/** Our programs run as hand-recorded dispatches (../record.ts): less JavaScript per call than tfjs's. */
function run(tf: typeof tfType, args: KernelArgs, program: GemmProgram | SumSplitsProgram, inputs: readonly TensorInfoLike[]): TensorInfoLike {
  return runRecordable(args.backend, program, inputs as tfType.TensorInfo[], submitBatchSize(tf)) as TensorInfoLike;
}

function input(args: KernelArgs, name: string): TensorInfoLike {
  const t = args.inputs[name];
  if (t === undefined) throw new Error(`missing input ${name}`);
  return t;
}

export function conv2DBackpropFilter(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return (args) => {
    const x = input(args, 'x');
    const dy = input(args, 'dy');
    const filterShape = args.attrs['filterShape'] as number[];
    const g = convGeometry(tf, x.shape, filterShape, args.attrs as unknown as ConvAttrs);
    if (g === null || x.dtype !== 'float32' || dy.dtype !== 'float32') return fallback(args);
    const key = `dW_${geometryKey(g)}`;
    const spec = memo(key, () => filterGradSpec(g));
    const splits = splitCount(spec);
    if (splits === 1) {
      return run(tf, args, new GemmProgram(key, ['x', 'dy'], filterShape, spec), [x, dy]);
    }
    const partial = run(tf, args, new GemmProgram(key, ['x', 'dy'], [splits, spec.m * spec.n], spec), [x, dy]);
    const out = run(tf, args, new SumSplitsProgram(splits, filterShape), [partial]);
    args.backend.disposeData(partial.dataId);
    return out;
  };
}

export function conv2DBackpropInput(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return (args) => {
    const dy = input(args, 'dy');
    const filter = input(args, 'filter');
    const inputShape = args.attrs['inputShape'] as number[];
    const g = convGeometry(tf, inputShape, filter.shape, args.attrs as unknown as ConvAttrs);
    if (g === null || dy.dtype !== 'float32' || filter.dtype !== 'float32') return fallback(args);
    const key = `dX_${geometryKey(g)}`;
    const program = new GemmProgram(key, ['dy', 'W'], inputShape, memo(key, () => inputGradSpec(g)));
    return run(tf, args, program, [dy, filter]);
  };
}

export function conv2D(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return (args) => {
    const x = input(args, 'x');
    const filter = input(args, 'filter');
    const g = convGeometry(tf, x.shape, filter.shape, args.attrs as unknown as ConvAttrs);
    if (g === null || x.dtype !== 'float32' || filter.dtype !== 'float32') return fallback(args);
    const key = `fwd_${geometryKey(g)}`;
    const spec = memo(key, () => forwardSpec(g, { bias: false, relu: false }));
    const program = new GemmProgram(key, ['x', 'W'], [g.batch, g.outH, g.outW, g.outC], spec);
    return run(tf, args, program, [x, filter]);
  };
}

/** FusedConv2D as tf.layers emits it: bias and linear/ReLU only; PReLU, leaky ReLU etc. fall back. */
export function fusedConv2D(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return (args) => {
    const x = input(args, 'x');
    const filter = input(args, 'filter');
    const bias = args.inputs['bias'];
    const activation = (args.attrs['activation'] as string | undefined) ?? 'linear';
    const g = convGeometry(tf, x.shape, filter.shape, args.attrs as unknown as ConvAttrs);
    const biasOk = bias === undefined || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === filter.shape[3]);
    if (
      g === null ||
      !biasOk ||
      args.inputs['preluActivationWeights'] !== undefined ||
      (activation !== 'linear' && activation !== 'relu') ||
      x.dtype !== 'float32' ||
      filter.dtype !== 'float32'
    ) {
      return fallback(args);
    }
    const ep = { bias: bias !== undefined, relu: activation === 'relu' };
    const names = ep.bias ? ['x', 'W', 'bias'] : ['x', 'W'];
    const key = `fused_${ep.bias}_${ep.relu}_${geometryKey(g)}`;
    const program = new GemmProgram(key, names, [g.batch, g.outH, g.outW, g.outC], memo(key, () => forwardSpec(g, ep)));
    return run(tf, args, program, bias === undefined ? [x, filter] : [x, filter, bias]);
  };
}
