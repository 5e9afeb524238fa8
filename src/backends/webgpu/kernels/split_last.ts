// SplitV along the last (channel) axis as ONE dispatch with an output per part, instead of tfjs's
// slice per part. tfjs differentiates Concat with SplitV, so every Inception module's channel concat
// costs one dispatch in the backward pass instead of two. Other axes, dtypes and part counts that the
// device's storage-buffer limit cannot bind fall back to tfjs's kernel.
import type * as tfType from '@tensorflow/tfjs';
import { RecordedKernel, recordDispatch, recorderFor, submitBatchSize } from '../record.js';
import type { KernelFn } from './conv_kernels.js';

type Info = tfType.TensorInfo;

const THREADS = 256;
const MAX_GROUPS_X = 32768;

const kernels = new Map<string, RecordedKernel>();

/** Part k gets channels [offset_k, offset_k + size_k) of every row of x [rows, C]. */
function splitKernel(channels: number, sizes: readonly number[], total: number): RecordedKernel {
  const key = `rethink_split_last_${channels}_${sizes.join('-')}_${total}`;
  let k = kernels.get(key);
  if (k === undefined) {
    const branches: string[] = [];
    let offset = 0;
    for (const [p, size] of sizes.entries()) {
      const test = p === sizes.length - 1 ? '' : `if (col < ${offset + size}) `;
      branches.push(`${test}{ out${p}[row * ${size} + col - ${offset}] = v; return; }`);
      offset += size;
    }
    k = new RecordedKernel({
      key,
      outputs: sizes.map((_, p) => ({ name: `out${p}`, type: 'f32' as const })),
      inputs: [{ name: 'x', type: 'f32' }],
      workgroupSize: [THREADS, 1, 1],
      code: `
fn main(index : i32) {
  if (index >= ${total}) { return; }
  let row = index / ${channels};
  let col = index - row * ${channels};
  let v = x[index];
  ${branches.join('\n  ')}
}
`,
    });
    kernels.set(key, k);
  }
  return k;
}

export function splitVLastAxis(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return ((args: { inputs: Record<string, Info | undefined>; backend: unknown; attrs: Record<string, unknown> }) => {
    const x = args.inputs['x'];
    const rec = recorderFor(args.backend);
    if (x === undefined || rec === null || x.dtype !== 'float32' || x.shape.length === 0) return fallback(args as never);
    const rank = x.shape.length;
    const axis = tf.util.parseAxisParam(args.attrs['axis'] as number | number[], x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tfType.Tensor, args.attrs['numOrSizeSplits'] as number | number[], axis);
    const limit = (rec.device as { limits?: { maxStorageBuffersPerShaderStage?: number } }).limits?.maxStorageBuffersPerShaderStage ?? 8;
    const total = x.shape.reduce((a, d) => a * d, 1);
    if (axis !== rank - 1 || sizes.length < 2 || sizes.length + 1 > limit || sizes.some((s) => s === 0) || total === 0) return fallback(args as never);
    const channels = x.shape[rank - 1]!;
    const groups = Math.ceil(total / THREADS);
    const outputs = sizes.map((s) => ({ shape: [...x.shape.slice(0, -1), s], dtype: 'float32' as const }));
    return recordDispatch(
      rec,
      splitKernel(channels, sizes, total),
      { inputs: [x], outputs, groups: [Math.min(groups, MAX_GROUPS_X), Math.ceil(groups / MAX_GROUPS_X), 1] },
      submitBatchSize(tf),
    );
  }) as unknown as KernelFn;
}
