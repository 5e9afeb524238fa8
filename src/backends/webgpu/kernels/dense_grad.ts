// The backward pass of a dense layer y = act(x·W + b), act ∈ {linear, relu}, on WebGPU in one or two
// dispatches instead of tfjs's five to seven (Step and Multiply for the ReLU gradient, a transpose and a
// matmul for dW, a Sum for db, a matmul for dx):
//   dz = dy·[y > 0] (relu) or dy (linear)      — never materialised: applied where dy is loaded
//   dW = xᵀ·dz and db = Σ_rows dz               — ONE gathered GEMM over K = batch, whose A operand has
//                                                 an extra row of ones, so its last output row is db
//   dx = dz·Wᵀ                                   — one GEMM, only when the layer's input needs a gradient
// The GEMM is gemm_shader.ts's (measured on an H200 for the conv kernels); the dispatches are hand-recorded
// (../record.ts) because dW and db are two outputs of one dispatch.
import type * as tfType from '@tensorflow/tfjs';
import { recordedGemm, recordedSite, type RecordedGemm } from './gemm_program.js';
import { tileKey, TILE_64, type GemmSpec, type GemmTile } from './gemm_shader.js';
import { gemmTuner, PerTile } from './gemm_tuning.js';
import { tileFor } from './conv_gemm_specs.js';
import { recordDispatch, recorderFor, submitBatchSize } from '../record.js';
import { DENSE_GRAD } from '../../../ops/bias_relu.js';

type Info = tfType.TensorInfo;


export interface DenseGradAttrs {
  readonly relu: boolean;
  /** Whether to compute dx (false for a layer fed by the model's input). */
  readonly inputGrad: boolean;
}

function roundUp(v: number, to: number): number {
  return Math.ceil(v / to) * to;
}

/** dz at flat index `i` of dy (and y), as a WGSL expression. */
const dz = (relu: boolean, i: string): string => (relu ? `select(0.0, dy[${i}], y[${i}] > 0.0)` : `dy[${i}]`);

/** [dW; db] = [x | 1]ᵀ·dz: M = K + 1 rows (the last one the bias), N columns, summed over the batch. */
export function weightGradSpec(batch: number, k: number, n: number, relu: boolean, tile: GemmTile = TILE_64): GemmSpec {
  return {
    m: k + 1,
    n,
    k: batch,
    kChunk: roundUp(batch, tile.tk),
    tile,
    aOrder: 'm',
    bOrder: 'n',
    recorded: true,
    a: { type: 'i32', setup: 'return m;', load: `if (r == ${k}) { return 1.0; }\n    return x[k * ${k} + r];` },
    b: { type: 'i32', setup: 'return n;', load: `let i = k * ${n} + r;\n    return ${dz(relu, 'i')};` },
    store: `if (m < ${k}) { dW[m * ${n} + n] = v; } else { db[n] = v; }`,
  };
}

/** dx = dz·Wᵀ: M = batch rows, N = K columns, summed over the layer's N outputs. */
export function inputGradSpec(batch: number, k: number, n: number, relu: boolean, tile: GemmTile = TILE_64): GemmSpec {
  return {
    m: batch,
    n: k,
    k: n,
    kChunk: roundUp(n, tile.tk),
    tile,
    aOrder: 'k',
    bOrder: 'k',
    recorded: true,
    a: { type: 'i32', setup: `return m * ${n};`, load: `let i = r + k;\n    return ${dz(relu, 'i')};` },
    b: { type: 'i32', setup: `return n * ${n};`, load: 'return W[r + k];' },
    store: `dx[m * ${k} + n] = v;`,
  };
}

// Kernels are pure functions of (batch, K, N, relu) and the tile; a training run uses the same few every
// step. Tiles come from the GEMM tuner (gemm_tuning.ts): tileFor's until it has timed the others.
const weightKernels = new PerTile<RecordedGemm>();
const inputKernels = new PerTile<RecordedGemm>();

/** Shapes of the bindings dz is read from: dy, and y when relu. */
const dzShapes = (batch: number, n: number, relu: boolean): number[][] => (relu ? [[batch, n], [batch, n]] : [[batch, n]]);

/** [dW; db] = [x | 1]ᵀ·dz on the tile the tuner gives product `key`. */
function weightGradKernel(key: string, batch: number, k: number, n: number, relu: boolean): RecordedGemm {
  const make = (t: GemmTile): RecordedGemm =>
    weightKernels.get(key, t, () => recordedGemm(`${key}_${tileKey(t)}`, weightGradSpec(batch, k, n, relu, t), ['dW', 'db'], relu ? ['x', 'dy', 'y'] : ['x', 'dy']));
  return make(gemmTuner.tile(key, tileFor(k + 1, n), () => recordedSite(key, k + 1, n, make, [[k, n], [n], [batch, k], ...dzShapes(batch, n, relu)])));
}

/** dx = dz·Wᵀ on the tile the tuner gives product `key`. */
function inputGradKernel(key: string, batch: number, k: number, n: number, relu: boolean): RecordedGemm {
  const make = (t: GemmTile): RecordedGemm =>
    inputKernels.get(key, t, () => recordedGemm(`${key}_${tileKey(t)}`, inputGradSpec(batch, k, n, relu, t), ['dx'], relu ? ['dy', 'y', 'W'] : ['dy', 'W']));
  return make(gemmTuner.tile(key, tileFor(batch, k), () => recordedSite(key, batch, k, make, [[batch, k], ...dzShapes(batch, n, relu), [k, n]])));
}

/**
 * Kernel function: inputs x [B, K], W [K, N], dy [B, N], and y [B, N] when relu; outputs
 * [dx,] dW [K, N], db [N] (dx first, and only when inputGrad).
 */
export const denseGradKernel =
  (tf: typeof tfType): tfType.KernelFunc =>
  (args) => {
    const { x, W, dy, y } = args.inputs as { x: Info; W: Info; dy: Info; y?: Info };
    const a = args.attrs as unknown as DenseGradAttrs;
    const b = recorderFor(args.backend);
    if (b === null) throw new Error(`${DENSE_GRAD}: this tfjs-backend-webgpu lacks the internals it records with`);
    if (a.relu && y === undefined) throw new Error(`${DENSE_GRAD}: relu needs the layer's output y`);
    const [batch, k] = x.shape as [number, number];
    const n = W.shape[1]!;
    if (W.shape[0] !== k || dy.shape[0] !== batch || dy.shape[1] !== n) {
      throw new Error(`${DENSE_GRAD}: shapes x [${x.shape}], W [${W.shape}], dy [${dy.shape}] do not fit`);
    }
    const submit = submitBatchSize(tf);
    const masked = a.relu ? [dy, y!] : [dy];
    const shape = `${batch}_${k}_${n}_${a.relu}`;
    const out: Info[] = [];
    if (a.inputGrad) {
      const c = inputGradKernel(`rethink_dense_dx_${shape}`, batch, k, n, a.relu);
      out.push(...recordDispatch(b, c.kernel, { inputs: [...masked, W], outputs: [{ shape: [batch, k], dtype: 'float32' }], groups: c.groups }, submit));
    }
    const c = weightGradKernel(`rethink_dense_dw_${shape}`, batch, k, n, a.relu);
    const grads = [
      { shape: [k, n], dtype: 'float32' },
      { shape: [n], dtype: 'float32' },
    ] as const;
    out.push(...recordDispatch(b, c.kernel, { inputs: [x, ...masked], outputs: grads, groups: c.groups }, submit));
    return out;
  };
