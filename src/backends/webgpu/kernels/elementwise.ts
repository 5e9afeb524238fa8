// Add, Sub and Multiply of float32 tensors on the GPU as recorded dispatches (../record.ts). A training
// step is full of them where we cannot fuse: the tape sums the gradients of a tensor used twice (each
// Inception module's input feeds two branches), and a custom gradient scales by its dy. tfjs's binary-op
// program costs ≈40–50 µs of JavaScript per call here (a shader key from the shapes, a uniform buffer,
// a bind group); a recorded dispatch ≈10–15 µs. Only the common cases are ours: equal shapes, or one
// operand with a single element. Broadcasting, other dtypes (also int32 data relabelled as float32 by a
// cast) and the small CPU-resident tensors tfjs computes on the CPU go to tfjs's kernel.
import type * as tfType from '@tensorflow/tfjs';
import { RecordedKernel, recordDispatch, recorderFor, storedDtype, submitBatchSize, wrapGroups } from '../record.js';
import type { KernelFn } from './conv_kernels.js';
import { Memo } from '../../../util/memo.js';

type Info = tfType.TensorInfo;

const THREADS = 256;

const OPS = { Add: '+', Sub: '-', Multiply: '*' } as const;
export type BinaryOp = keyof typeof OPS;

const kernels = new Memo<string, RecordedKernel>();

/** out[i] = a[i] op b[i], reading element 0 of an operand that has a single one. */
function binaryKernel(op: BinaryOp, total: number, aScalar: boolean, bScalar: boolean): RecordedKernel {
  const key = `rethink_binary_${op}_${total}_${aScalar}_${bScalar}`;
  return kernels.get(
    key,
    () =>
      new RecordedKernel({
        key,
        outputs: [{ name: 'result', type: 'f32' }],
        inputs: [
          { name: 'a', type: 'f32' },
          { name: 'b', type: 'f32' },
        ],
        workgroupSize: [THREADS, 1, 1],
        code: `
fn main(index : i32) {
  if (index >= ${total}) { return; }
  result[index] = a[${aScalar ? 0 : 'index'}] ${OPS[op]} b[${bScalar ? 0 : 'index'}];
}
`,
      }),
  );
}

const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

export function binaryOp(op: BinaryOp): (tf: typeof tfType, fallback: KernelFn) => KernelFn {
  return (tf, fallback) =>
    ((args: { inputs: Record<string, Info | undefined>; backend: unknown; attrs: Record<string, unknown> }) => {
      const a = args.inputs['a'];
      const b = args.inputs['b'];
      const rec = recorderFor(args.backend);
      // tfjs casts int32 to float32 by relabelling the int32 data: such an operand is tfjs's to read.
      if (a === undefined || b === undefined || rec === null || storedDtype(rec, a) !== 'float32' || storedDtype(rec, b) !== 'float32') return fallback(args as never);
      const cpu = (args.backend as { shouldExecuteOnCPU?: (t: Info[]) => boolean }).shouldExecuteOnCPU?.([a, b]) ?? true;
      if (cpu) return fallback(args as never);
      const [na, nb] = [size(a.shape), size(b.shape)];
      let shape: readonly number[];
      if (sameShape(a.shape, b.shape)) shape = a.shape;
      // One operand of a single element broadcasts if its rank does not raise the output's.
      else if (nb === 1 && b.shape.length <= a.shape.length) shape = a.shape;
      else if (na === 1 && a.shape.length <= b.shape.length) shape = b.shape;
      else return fallback(args as never);
      const total = size(shape);
      if (total === 0) return fallback(args as never);
      const kernel = binaryKernel(op, total, na === 1 && total > 1, nb === 1 && total > 1);
      const outputs = [{ shape, dtype: 'float32' as const }];
      return recordDispatch(rec, kernel, { inputs: [a, b], outputs, groups: wrapGroups(Math.ceil(total / THREADS)) }, submitBatchSize(tf))[0]!;
    }) as unknown as KernelFn;
}
