// The global average pool (Mean of an NHWC tensor over its height and width) and its gradient as
// recorded dispatches (../record.ts), one each. tfjs's Mean transposes the input and then reduces it
// (two programs), and tfjs-core's gradient divides dy by a scalar it uploads and tiles the quotient
// (two more programs): the last tfjs programs in an Inception training step. Other Means go to tfjs.
import type * as tfType from '@tensorflow/tfjs';
import { FLAT_THREADS, flatKernel, recordDispatch, recorderFor, storedDtype, submitBatchSize, wrapGroups, type RecordedKernel } from '../record.js';
import type { KernelFn } from './conv_kernels.js';
import { isSpatialMean, SPATIAL_MEAN_GRAD } from '../../../ops/gradients.js';

type Info = tfType.TensorInfo;
type Args = { inputs: Record<string, Info | undefined>; backend: unknown; attrs: Record<string, unknown> };

/** [B, H, W, C] as batch, positions per image and channels. */
function dims(shape: readonly number[]): { b: number; hw: number; c: number } {
  const [b, h, w, c] = shape as [number, number, number, number];
  return { b, hw: h * w, c };
}

/** out[b, c] = (Σ over the H·W positions of x[b, ·, ·, c], in row-major order) / (H·W). */
function meanKernel(b: number, hw: number, c: number): RecordedKernel {
  return flatKernel(
    `rethink_spatial_mean_${b}_${hw}_${c}`,
    ['x'],
    `
fn main(index : i32) {
  if (index >= ${b * c}) { return; }
  let image = index / ${c};
  let base = image * ${hw * c} + (index - image * ${c});
  var sum = 0.0;
  for (var p = 0; p < ${hw}; p = p + 1) { sum = sum + x[base + p * ${c}]; }
  result[index] = sum / ${hw}.0;
}
`,
  );
}

/** dx[b, h, w, c] = dy[b, c] / (H·W): tfjs-core's gradient of Mean, divide then tile, in one pass. */
function gradKernel(b: number, hw: number, c: number): RecordedKernel {
  return flatKernel(
    `rethink_spatial_mean_grad_${b}_${hw}_${c}`,
    ['dy'],
    `
fn main(index : i32) {
  if (index >= ${b * hw * c}) { return; }
  let image = index / ${hw * c};
  result[index] = dy[image * ${c} + index % ${c}] / ${hw}.0;
}
`,
  );
}

/** Mean on webgpu: ours for float32 NHWC over [1, 2] on the GPU, else tfjs's (`fallback`). */
export function spatialMean(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return ((args: Args) => {
    const x = args.inputs['x'];
    const rec = recorderFor(args.backend);
    if (x === undefined || rec === null || storedDtype(rec, x) !== 'float32' || !isSpatialMean(tf, args.attrs['axis'], x.shape)) return fallback(args as never);
    const { b, hw, c } = dims(x.shape);
    if (b * hw * c === 0) return fallback(args as never);
    const shape = args.attrs['keepDims'] === true ? [b, 1, 1, c] : [b, c];
    return recordDispatch(rec, meanKernel(b, hw, c), { inputs: [x], outputs: [{ shape, dtype: 'float32' }], groups: wrapGroups(Math.ceil((b * c) / FLAT_THREADS)) }, submitBatchSize(tf))[0]!;
  }) as unknown as KernelFn;
}

/** Kernel function of RethinkSpatialMeanGrad: input dy, attribute `shape` (x's, [B, H, W, C]). */
export const spatialMeanGradKernel =
  (tf: typeof tfType): tfType.KernelFunc =>
  (args) => {
    const { dy } = args.inputs as { dy: Info };
    const shape = (args.attrs as unknown as { shape: number[] }).shape;
    const rec = recorderFor(args.backend);
    if (rec === null) throw new Error(`${SPATIAL_MEAN_GRAD}: this tfjs-backend-webgpu lacks the internals it records with`);
    const { b, hw, c } = dims(shape);
    if (dy.shape.reduce((p, d) => p * d, 1) !== b * c) throw new Error(`${SPATIAL_MEAN_GRAD}: dy ${JSON.stringify(dy.shape)} does not reduce ${JSON.stringify(shape)}`);
    return recordDispatch(rec, gradKernel(b, hw, c), { inputs: [dy], outputs: [{ shape, dtype: 'float32' }], groups: wrapGroups(Math.ceil((b * hw * c) / FLAT_THREADS)) }, submitBatchSize(tf))[0]!;
  };
