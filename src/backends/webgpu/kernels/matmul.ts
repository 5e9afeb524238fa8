// _FusedMatMul on 'webgpu' as one of our gathered GEMMs (gemm_shader.ts) with the bias and ReLU in its
// epilogue, run as a recorded dispatch (../record.ts): the forward pass of every dense layer. tfjs's own
// kernel costs 2–3 programs through runWebGPUProgram per call at small batches (a split-K matmul, then a
// bias+activation program), and JavaScript per dispatch is what bounds a batch-128 training step on a
// fast GPU. Its tile comes from the GEMM tuner (gemm_tuning.ts). Cases it does not cover (transposed
// A, batched B, PReLU/leaky ReLU/other activations, a broadcast bias) go to tfjs's kernel.
import type * as tfType from '@tensorflow/tfjs';
import { tileFor, type ForwardEpilogue } from './conv_gemm_specs.js';
import { GemmProgram, programSite, type TensorInfoLike, type WebGpuBackendLike } from './gemm_program.js';
import type { GemmSpec, GemmTile } from './gemm_shader.js';
import { gemmTuner, PerTile } from './gemm_tuning.js';
import { runRecordable, submitBatchSize } from '../record.js';

type KernelArgs = {
  readonly inputs: Record<string, TensorInfoLike | undefined>;
  readonly backend: WebGpuBackendLike;
  readonly attrs: Record<string, unknown>;
};
type KernelFn = (args: KernelArgs) => TensorInfoLike;

function roundUp(v: number, to: number): number {
  return Math.ceil(v / to) * to;
}

/** y[m][n] = ep(Σ_k x[m][k]·W[k][n]) (W[n][k] when transposeB) for x [rows, K]: one GEMM, no split. */
export function denseForwardSpec(rows: number, k: number, n: number, transposeB: boolean, ep: ForwardEpilogue, tile: GemmTile): GemmSpec {
  let value = 'v';
  if (ep.bias) value = `(${value} + bias[n])`;
  if (ep.relu) value = `max(${value}, 0.0)`;
  return {
    m: rows,
    n,
    k,
    kChunk: roundUp(k, 16),
    tile,
    aOrder: 'k',
    bOrder: transposeB ? 'k' : 'n',
    a: { type: 'i32', setup: `return m * ${k};`, load: 'return x[r + k];' },
    b: transposeB ? { type: 'i32', setup: `return n * ${k};`, load: 'return W[r + k];' } : { type: 'i32', setup: 'return n;', load: `return W[k * ${n} + r];` },
    store: `result[m * ${n} + n] = ${value};`,
  };
}

const specs = new PerTile<GemmSpec>();

export function fusedMatMul(tf: typeof tfType, fallback: KernelFn): KernelFn {
  return (args) => {
    const a = args.inputs['a'];
    const b = args.inputs['b'];
    const bias = args.inputs['bias'];
    const activation = (args.attrs['activation'] as string | undefined) ?? 'linear';
    if (
      a === undefined ||
      b === undefined ||
      args.attrs['transposeA'] === true ||
      args.inputs['preluActivationWeights'] !== undefined ||
      (activation !== 'linear' && activation !== 'relu') ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      a.shape.length < 2 ||
      a.shape.length > 3 ||
      b.shape.length < 2 ||
      b.shape.length > 3 ||
      (b.shape.length === 3 && b.shape[0] !== 1)
    ) {
      return fallback(args);
    }
    const transposeB = args.attrs['transposeB'] === true;
    const k = a.shape[a.shape.length - 1]!;
    const bk = b.shape[b.shape.length - (transposeB ? 1 : 2)]!;
    const n = b.shape[b.shape.length - (transposeB ? 2 : 1)]!;
    if (bk !== k || (bias !== undefined && (bias.dtype !== 'float32' || bias.shape.length !== 1 || bias.shape[0] !== n))) return fallback(args);
    const rows = a.shape.slice(0, -1).reduce((p, q) => p * q, 1);
    // tfjs's output: a's leading dimensions then N; a rank-3 B makes a rank-2 A's output rank 3.
    const outShape = b.shape.length === 3 && a.shape.length === 2 ? [1, rows, n] : [...a.shape.slice(0, -1), n];
    const ep: ForwardEpilogue = { bias: bias !== undefined, relu: activation === 'relu' };
    const key = `mm_${rows}_${k}_${n}_${transposeB}_${ep.bias}_${ep.relu}`;
    const names = ep.bias ? ['x', 'W', 'bias'] : ['x', 'W'];
    const program = (tile: GemmTile): GemmProgram =>
      new GemmProgram(key, names, outShape, specs.get(key, tile, () => denseForwardSpec(rows, k, n, transposeB, ep, tile)));
    const inputs = bias === undefined ? [a, b] : [a, b, bias];
    const tile = gemmTuner.tile(key, tileFor(rows, n), () => programSite(key, rows, n, program, [outShape, ...inputs.map((t) => t.shape)]));
    return runRecordable(args.backend, program(tile), inputs as tfType.TensorInfo[], submitBatchSize(tf)) as TensorInfoLike;
  };
}
