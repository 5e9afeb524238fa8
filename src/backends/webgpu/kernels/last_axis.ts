// Concat and SplitV along the last (channel) axis as ONE recorded dispatch each (../record.ts). SplitV
// writes an output per part instead of tfjs's slice per part; tfjs differentiates Concat with SplitV, so
// every Inception module's channel concat costs one dispatch in the backward pass instead of two.
// Concat is one dispatch in tfjs too, but through runWebGPUProgram's heavier JavaScript. Other axes,
// dtypes, part counts that the device's storage-buffer limit cannot bind, and the small CPU-resident
// tensors tfjs keeps on the CPU fall back to tfjs's kernels.
import type * as tfType from '@tensorflow/tfjs';
import { RecordedKernel, recordDispatch, recorderFor, submitBatchSize, wrapGroups } from '../record.js';
import type { KernelFn } from './conv_kernels.js';
import { Memo } from '../../../util/memo.js';

type Info = tfType.TensorInfo;

const THREADS = 256;

const kernels = new Memo<string, RecordedKernel>();

/**
 * WGSL choosing part p of a row by channel `col`: part p covers channels [offset_p, offset_p + size_p),
 * and `body(p, local)` handles channel `local` (a WGSL expression) of row `row` in it.
 */
function byPart(sizes: readonly number[], body: (p: number, local: string) => string): string {
  const branches: string[] = [];
  let offset = 0;
  for (const [p, size] of sizes.entries()) {
    const test = p === sizes.length - 1 ? '' : `if (col < ${offset + size}) `;
    branches.push(`${test}{ ${body(p, `row * ${size} + col - ${offset}`)} return; }`);
    offset += size;
  }
  return branches.join('\n  ');
}

/** A kernel over the `total` elements of the [rows, C] side (x for split, the output for concat). */
function rowKernel(key: string, channels: number, total: number, io: Pick<ConstructorParameters<typeof RecordedKernel>[0], 'outputs' | 'inputs'>, body: string): RecordedKernel {
  return new RecordedKernel({
    key,
    ...io,
    workgroupSize: [THREADS, 1, 1],
    code: `
fn main(index : i32) {
  if (index >= ${total}) { return; }
  let row = index / ${channels};
  let col = index - row * ${channels};
  ${body}
}
`,
  });
}

/** Part p gets channels [offset_p, offset_p + size_p) of every row of x [rows, C]. */
function splitKernel(channels: number, sizes: readonly number[], total: number): RecordedKernel {
  const key = `rethink_split_last_${channels}_${sizes.join('-')}_${total}`;
  const io = { outputs: sizes.map((_, p) => ({ name: `out${p}`, type: 'f32' as const })), inputs: [{ name: 'x', type: 'f32' as const }] };
  return kernels.get(key, () => rowKernel(key, channels, total, io, `let v = x[index];\n  ${byPart(sizes, (p, local) => `out${p}[${local}] = v;`)}`));
}

/** Part p fills channels [offset_p, offset_p + size_p) of every row of the output [rows, C]. */
function concatKernel(channels: number, sizes: readonly number[], total: number): RecordedKernel {
  const key = `rethink_concat_last_${channels}_${sizes.join('-')}_${total}`;
  const io = { outputs: [{ name: 'result', type: 'f32' as const }], inputs: sizes.map((_, p) => ({ name: `in${p}`, type: 'f32' as const })) };
  return kernels.get(key, () => rowKernel(key, channels, total, io, byPart(sizes, (p, local) => `result[index] = in${p}[${local}];`)));
}

const storageLimit = (rec: { device: unknown }): number =>
  (rec.device as { limits?: { maxStorageBuffersPerShaderStage?: number } }).limits?.maxStorageBuffersPerShaderStage ?? 8;

const flatGroups = (total: number): [number, number, number] => wrapGroups(Math.ceil(total / THREADS));

export function concatLastAxis(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return ((args: { inputs: Record<string, Info> | Info[]; backend: unknown; attrs: Record<string, unknown> }) => {
    const xs = Object.values(args.inputs) as Info[];
    const rec = recorderFor(args.backend);
    const cpu = (args.backend as { shouldExecuteOnCPU?: (t: Info[]) => boolean }).shouldExecuteOnCPU?.(xs) ?? true;
    if (rec === null || cpu || xs.length < 2 || xs.length + 1 > storageLimit(rec) || xs.some((x) => x.dtype !== 'float32' || x.shape.length === 0)) {
      return fallback(args as never);
    }
    const rank = xs[0]!.shape.length;
    const axis = tf.util.parseAxisParam(args.attrs['axis'] as number | number[], xs[0]!.shape)[0]!;
    if (axis !== rank - 1 || xs.some((x) => x.shape.length !== rank || x.shape.some((d) => d === 0))) return fallback(args as never);
    tf.backend_util.assertParamsConsistent(xs.map((x) => x.shape), axis);
    const sizes = xs.map((x) => x.shape[rank - 1]!);
    const channels = sizes.reduce((a, b) => a + b, 0);
    const shape = [...xs[0]!.shape.slice(0, -1), channels];
    const total = shape.reduce((a, d) => a * d, 1);
    const outputs = [{ shape, dtype: 'float32' as const }];
    return recordDispatch(rec, concatKernel(channels, sizes, total), { inputs: xs, outputs, groups: flatGroups(total) }, submitBatchSize(tf))[0]!;
  }) as unknown as KernelFn;
}

export function splitVLastAxis(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return ((args: { inputs: Record<string, Info | undefined>; backend: unknown; attrs: Record<string, unknown> }) => {
    const x = args.inputs['x'];
    const rec = recorderFor(args.backend);
    if (x === undefined || rec === null || x.dtype !== 'float32' || x.shape.length === 0) return fallback(args as never);
    const rank = x.shape.length;
    const axis = tf.util.parseAxisParam(args.attrs['axis'] as number | number[], x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tfType.Tensor, args.attrs['numOrSizeSplits'] as number | number[], axis);
    const limit = storageLimit(rec);
    const total = x.shape.reduce((a, d) => a * d, 1);
    if (axis !== rank - 1 || sizes.length < 2 || sizes.length + 1 > limit || sizes.some((s) => s === 0) || total === 0) return fallback(args as never);
    const channels = x.shape[rank - 1]!;
    const outputs = sizes.map((s) => ({ shape: [...x.shape.slice(0, -1), s], dtype: 'float32' as const }));
    return recordDispatch(rec, splitKernel(channels, sizes, total), { inputs: [x], outputs, groups: flatGroups(total) }, submitBatchSize(tf));
  }) as unknown as KernelFn;
}
