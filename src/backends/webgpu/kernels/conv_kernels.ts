// Kernel functions for 'webgpu' that run the convolution products as gathered GEMMs (see
// conv_gemm_specs.ts); each falls back to tfjs's own kernel for cases it does not cover.
import type * as tfType from '@tensorflow/tfjs';
import { convGeometry, geometryKey, type ConvAttrs } from './conv_geometry.js';
import { DEFAULT_SPLIT, filterGradSpec, forwardSpec, inputGradKey, inputGradRows, inputGradSpec, splitCount, tileFor, type ForwardEpilogue } from './conv_gemm_specs.js';
import { GemmProgram, programSite, SumSplitsProgram, type TensorInfoLike, type WebGpuBackendLike } from './gemm_program.js';
import { TILE_64, type GemmSpec, type GemmTile } from './gemm_shader.js';
import { gemmTuner, PerTile } from './gemm_tuning.js';
import { runRecordable, submitBatchSize } from '../record.js';

type KernelArgs = {
  readonly inputs: Record<string, TensorInfoLike | undefined>;
  readonly backend: WebGpuBackendLike;
  readonly attrs: Record<string, unknown>;
};
export type KernelFn = (args: KernelArgs) => TensorInfoLike;

// Specs are pure functions of the geometry; kernels run every training step with the same few shapes,
// so build each once (the per-call JavaScript cost is what limits small batches on a fast GPU).
// Per product and tile: the GEMM tuner (gemm_tuning.ts) may move a product to another tile.
const specs = new PerTile<GemmSpec>();
const memo = (key: string, tile: GemmTile, make: () => GemmSpec): GemmSpec => specs.get(key, tile, make);

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
    // The split depends on the shape only (conv_gemm_specs.ts splitChunk), so on no tile.
    const splits = splitCount(memo(key, TILE_64, () => filterGradSpec(g)));
    const m = g.kH * g.kW * g.inC;
    const outShape = splits === 1 ? filterShape : [splits, m * g.outC];
    const program = (tile: GemmTile): GemmProgram => new GemmProgram(key, ['x', 'dy'], outShape, memo(key, tile, () => filterGradSpec(g, DEFAULT_SPLIT, tile)));
    const tile = gemmTuner.tile(key, TILE_64, () => programSite(key, m, g.outC, program, [outShape, x.shape, dy.shape]));
    if (splits === 1) return run(tf, args, program(tile), [x, dy]);
    const partial = run(tf, args, program(tile), [x, dy]);
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
    const key = `dX_${inputGradKey(g)}`;
    const m = inputGradRows(g);
    const program = (tile: GemmTile): GemmProgram => new GemmProgram(key, ['dy', 'W'], inputShape, memo(key, tile, () => inputGradSpec(g, tile)));
    const tile = gemmTuner.tile(key, tileFor(m, g.inC), () => programSite(key, m, g.inC, program, [inputShape, dy.shape, filter.shape]));
    return run(tf, args, program(tile), [dy, filter]);
  };
}

/** The forward product with epilogue `ep` on inputs [x, W(, bias)], its tile from the tuner. */
function forward(tf: typeof tfType, args: KernelArgs, g: NonNullable<ReturnType<typeof convGeometry>>, ep: ForwardEpilogue, inputs: readonly TensorInfoLike[]): TensorInfoLike {
  const key = `fwd_${ep.bias}_${ep.relu}_${geometryKey(g)}`;
  const names = ep.bias ? ['x', 'W', 'bias'] : ['x', 'W'];
  const outShape = [g.batch, g.outH, g.outW, g.outC];
  const m = g.batch * g.outH * g.outW;
  const program = (tile: GemmTile): GemmProgram => new GemmProgram(key, names, outShape, memo(key, tile, () => forwardSpec(g, ep, tile)));
  const tile = gemmTuner.tile(key, tileFor(m, g.outC), () => programSite(key, m, g.outC, program, [outShape, ...inputs.map((t) => t.shape)]));
  return run(tf, args, program(tile), inputs);
}

export function conv2D(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return (args) => {
    const x = input(args, 'x');
    const filter = input(args, 'filter');
    const g = convGeometry(tf, x.shape, filter.shape, args.attrs as unknown as ConvAttrs);
    if (g === null || x.dtype !== 'float32' || filter.dtype !== 'float32') return fallback(args);
    return forward(tf, args, g, { bias: false, relu: false }, [x, filter]);
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
    return forward(tf, args, g, ep, bias === undefined ? [x, filter] : [x, filter, bias]);
  };
}
