// Sum and Mean over leading axes (bias gradients, batch-norm statistics and their gradients):
// row accumulation in float64 straight from the heap. The stock kernels first transpose the reduced
// axes innermost; other reductions still go to them.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { composedKernel, input, type KernelArgs, type Ops } from '../ops.js';

/** How many leading axes `axis` names, if it names exactly a proper prefix of the axes; else 0. */
export function leadingAxes(axis: number | number[], shape: readonly number[]): number {
  const axes = [...new Set(tf.util.parseAxisParam(axis, [...shape]))].sort((p, q) => p - q);
  const prefix = axes.every((a, i) => a === i);
  return prefix && axes.length < shape.length ? axes.length : 0;
}

function sumRows(ops: Ops, x: TensorInfo, lead: number, keepDims: boolean, scale: (rows: number) => number): TensorInfo {
  const rows = tf.util.sizeFromShape(x.shape.slice(0, lead));
  const rest = x.shape.slice(lead);
  const cols = tf.util.sizeFromShape(rest);
  const out = ops.output(keepDims ? [...x.shape.slice(0, lead).map(() => 1), ...rest] : rest);
  const o = ops.f32(out);
  const v = ops.f32(x);
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc[c] = acc[c]! + v[base + c]!;
  }
  const f = scale(rows);
  for (let c = 0; c < cols; c++) o[c] = acc[c]! * f;
  return out;
}

function reduceConfig(kernelName: 'Sum' | 'Mean', backendName: string, original: KernelFunc): KernelConfig {
  return composedKernel(kernelName, backendName, (ops, args: KernelArgs) => {
    const x = input(args, 'x');
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const lead = x.dtype === 'float32' ? leadingAxes(axis, x.shape) : 0;
    if (lead === 0) return ops.call(original, args.inputs, args.attrs);
    return sumRows(ops, x, lead, keepDims, (rows) => (kernelName === 'Mean' ? 1 / rows : 1));
  });
}

export const sumConfig = (backendName: string, original: KernelFunc): KernelConfig => reduceConfig('Sum', backendName, original);
export const meanConfig = (backendName: string, original: KernelFunc): KernelConfig => reduceConfig('Mean', backendName, original);
