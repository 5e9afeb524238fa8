// Add, Sub and Multiply of float32 tensors on the GPU as recorded dispatches (../record.ts). A training
// step is full of them where we cannot fuse: the tape sums the gradients of a tensor used twice (each
// Inception module's input feeds two branches), and a custom gradient scales by its dy. tfjs's binary-op
// program costs ≈40–50 µs of JavaScript per call here (a shader key from the shapes, a uniform buffer,
// a bind group); a recorded dispatch ≈10–15 µs. Only the common cases are ours: equal shapes, or one
// operand with a single element. A single element still on the CPU (a scalar made in JavaScript, such
// as the gradient tape's seed dy = 1) travels as a uniform rather than through a staging buffer of its
// own. Broadcasting, other dtypes (also int32 data relabelled as float32 by a cast) and the small
// CPU-resident tensors tfjs computes on the CPU go to tfjs's kernel.
import type * as tfType from '@tensorflow/tfjs';
import { FLAT_THREADS, flatKernel, recordDispatch, recorderFor, storedDtype, submitBatchSize, wrapGroups, type RecordedKernel, type RecordingBackend } from '../record.js';
import type { KernelFn } from './conv_kernels.js';

type Info = tfType.TensorInfo;

const OPS = { Add: '+', Sub: '-', Multiply: '*' } as const;
export type BinaryOp = keyof typeof OPS;

/** How an operand is read: element-wise, its one element, or its one element passed as a uniform. */
type Operand = 'each' | 'first' | 'uniform';

/** out[i] = a[i] op b[i]; a single-element operand is read at element 0, or from the uniform `u.s`. */
function binaryKernel(op: BinaryOp, total: number, a: Operand, b: Operand): RecordedKernel {
  const read = (name: string, how: Operand): string => (how === 'uniform' ? 'u.s' : `${name}[${how === 'first' ? 0 : 'index'}]`);
  return flatKernel(
    `rethink_binary_${op}_${total}_${a}_${b}`,
    [...(a === 'uniform' ? [] : ['a']), ...(b === 'uniform' ? [] : ['b'])],
    `
struct U { s : f32 }
fn main(index : i32) {
  if (index >= ${total}) { return; }
  result[index] = ${read('a', a)} ${OPS[op]} ${read('b', b)};
}
`,
    a === 'uniform' || b === 'uniform',
  );
}

/** The value of a single-element float32 tensor whose data is still only on the CPU, else null. */
function cpuScalar(rec: RecordingBackend, t: Info): number | null {
  const d = rec.tensorMap.get(t.dataId);
  if (d === undefined || d.resource != null || d.values == null) return null;
  const values = d.values as ArrayLike<number>;
  return values.length === 1 ? values[0]! : null;
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
      // One CPU scalar at most goes as a uniform (the other operand is on the GPU: see `cpu` above).
      const [sa, sb] = [na === 1 ? cpuScalar(rec, a) : null, nb === 1 ? cpuScalar(rec, b) : null];
      const how = (n: number, scalar: number | null, other: number | null): Operand => (scalar !== null && other === null ? 'uniform' : n === 1 && total > 1 ? 'first' : 'each');
      const [ha, hb] = [how(na, sa, sb), how(nb, sb, sa)];
      const kernel = binaryKernel(op, total, ha, hb);
      const outputs = [{ shape, dtype: 'float32' as const }];
      const inputs = [...(ha === 'uniform' ? [] : [a]), ...(hb === 'uniform' ? [] : [b])];
      const scalar = ha === 'uniform' ? sa : hb === 'uniform' ? sb : null;
      const uniforms = scalar === null ? {} : { uniforms: [{ type: 'float32' as const, data: [scalar] }] };
      return recordDispatch(rec, kernel, { inputs, outputs, ...uniforms, groups: wrapGroups(Math.ceil(total / FLAT_THREADS)) }, submitBatchSize(tf))[0]!;
    }) as unknown as KernelFn;
}
